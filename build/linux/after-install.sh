#!/bin/sh
# Desktop .deb (electron-builder): the agent as a systemd user service for every user, started at login.
set -e
install -m 0644 /opt/Outpost/resources/outpost-agent.service /usr/lib/systemd/user/outpost-agent.service 2>/dev/null || true
systemctl --global enable outpost-agent.service 2>/dev/null || true
exit 0
