#!/usr/bin/env bash
# Runs the whole suite inside a private D-Bus session with an unlocked GNOME keyring, so tests that
# touch the OS keychain (keytar → Secret Service) use the real one. Extra arguments go to vitest.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z "${OUTPOST_IN_KEYRING:-}" ]] && command -v dbus-run-session >/dev/null && command -v gnome-keyring-daemon >/dev/null; then
  export OUTPOST_IN_KEYRING=1
  exec dbus-run-session -- bash "$0" "$@"
fi
if [[ -n "${OUTPOST_IN_KEYRING:-}" ]]; then
  # A fresh keyring, unlocked with a throwaway password, in a throwaway XDG data home.
  export XDG_DATA_HOME="$(mktemp -d)"
  eval "$(printf 'outpost-test\n' | gnome-keyring-daemon --unlock --components=secrets 2>/dev/null)" || true
  export OUTPOST_KEYRING=secret-service
else
  echo "warning: dbus-run-session or gnome-keyring-daemon missing: keychain tests use the file fallback" >&2
fi
results="$(mktemp -d)/vitest.json"
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$results" "$@" || status=$?
# The plain closing line CI reads ("N passed, N failed"), from vitest's own JSON report.
if [[ -f $results ]]; then
  node -e 'const r=require(process.argv[1]); console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`)' "$results"
fi
exit $status
