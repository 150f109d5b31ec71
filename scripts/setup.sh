#!/usr/bin/env bash
# `npm run setup`: everything a fresh Debian/Ubuntu machine needs to build, run and test Outpost.
# Idempotent. Installs system packages when it can (root or passwordless sudo) and says clearly what
# it could not install; then `npm ci` and the build.
set -uo pipefail
cd "$(dirname "$0")/.."

# What each system package is for:
#   libsecret-1-dev   keytar builds against it (OS keychain through the Secret Service)
#   gnome-keyring dbus  a real Secret Service for the keychain tests (dbus-run-session)
#   libnss3-tools     certutil: trust our CA in the NSS databases Chromium and Firefox read
#   chromium          the tray window's page and the browser trust tests, headless
#   ca-certificates   the OS trust bundle (update-ca-certificates)
#   curl openssl python3  real clients in the tests
#   build-essential python3  node-gyp, for the native addons (better-sqlite3, keytar) when no prebuilt fits
#   nftables iproute2 util-linux  transparent redirection tests (network namespaces, setpriv)
#   postgresql        the gateway's replica store: its tests start a throwaway cluster (initdb, pg_ctl) on loopback
#   zsh fish git      outpost env is evaluated by each real shell; git over HTTPS under outpost run
#   libglib2.0-bin gsettings-desktop-schemas dconf-gsettings-backend dconf-service
#                     outpost proxy on GNOME: gsettings applied and restored for real in a D-Bus session
PACKAGES=(libsecret-1-dev gnome-keyring dbus libnss3-tools chromium ca-certificates curl openssl python3 build-essential nftables iproute2 util-linux postgresql
  zsh fish git libglib2.0-bin gsettings-desktop-schemas dconf-gsettings-backend dconf-service)

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
else
  echo "setup: not a Debian-family system: install the equivalents of: ${PACKAGES[*]}" >&2
fi

if ((${#missing[@]})); then
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then
    if sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO="none"; fi
  fi
  if [[ $SUDO == none ]]; then
    echo "setup: cannot install system packages (not root, no passwordless sudo). Please install: ${missing[*]}" >&2
  else
    echo "setup: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if ! $SUDO apt-get install -y --no-install-recommends "${missing[@]}" >/tmp/outpost-setup-apt.log 2>&1; then
      $SUDO apt-get update >>/tmp/outpost-setup-apt.log 2>&1
      $SUDO apt-get install -y --no-install-recommends "${missing[@]}" >>/tmp/outpost-setup-apt.log 2>&1 ||
        echo "setup: could not install some of ${missing[*]} (see /tmp/outpost-setup-apt.log); the tests that need them will fail" >&2
    fi
  fi
fi

# The Electron binary cannot be downloaded on locked-down build machines: the tray is type-checked
# and its logic tested without it (npm 11 also refuses electron's install script via allowScripts).
export ELECTRON_SKIP_BINARY_DOWNLOAD=1
if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund || { echo "setup: npm ci failed" >&2; exit 1; }
fi
npm run build || { echo "setup: build failed" >&2; exit 1; }
echo "setup: done. Next: npm start (run the agent) or npm test (the whole suite)."
