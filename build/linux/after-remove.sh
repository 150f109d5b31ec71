#!/bin/sh
# Desktop .deb (electron-builder): the user service goes with the package.
systemctl --global disable outpost-agent.service 2>/dev/null || true
rm -f /usr/lib/systemd/user/outpost-agent.service
exit 0
