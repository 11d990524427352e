#!/usr/bin/env bash
# Runs every test of the project: `make test` (the README's test command).
# As root it first brings up a real systemd (scripts/systemd-harness.sh) so the
# service-manager tests run against it, and takes it down afterwards. Without
# root the systemd tests skip with a message saying how to enable them.
# In CI (CI=true) a harness that does not come up is an error, not a skip.
set -euo pipefail
cd "$(dirname "$0")/.."

harness=scripts/systemd-harness.sh
state=${REMOTECTL_SYSTEMD_STATE:-/tmp/remotectl-systemd}
up=0
if [ "$(id -u)" = 0 ] && [ -z "${REMOTECTL_NO_SYSTEMD:-}" ]; then
  if STATE=$state $harness up; then
    up=1
    # shellcheck disable=SC1091
    . "$state/env"
  elif [ "${CI:-}" = true ]; then
    echo "test.sh: the systemd harness did not come up" >&2; exit 1
  else
    echo "test.sh: the systemd harness did not come up; systemd tests will skip" >&2
  fi
else
  echo "test.sh: not root (or REMOTECTL_NO_SYSTEMD set): systemd tests will skip" >&2
fi
trap '[ $up = 1 ] && STATE=$state $harness down' EXIT

# -race needs cgo; fall back without it where no C compiler exists.
race=-race
command -v gcc >/dev/null 2>&1 || race=
go test $race -count=1 ${GOTESTFLAGS:-} ./...
