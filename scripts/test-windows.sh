#!/usr/bin/env bash
# make test-windows: the Wine lane. Cross-compiles the tests of the packages
# with Windows code (GOOS=windows go test -c), runs them under wine64 against
# Wine's real service control manager, then runs the end-to-end tests in
# which ctld.exe runs under Wine and the Linux ctl drives it over mTLS.
# Installs wine64 and mingw with apt when missing (scripts/wine-harness.sh).
# BENCH=1 also runs the ListServices benchmark on Wine's SCM.
set -euo pipefail
cd "$(dirname "$0")/.."

state=${REMOTECTL_WINE_STATE:-/tmp/remotectl-wine}
harness=scripts/wine-harness.sh
t0=$(date +%s)
STATE=$state $harness up
# shellcheck disable=SC1091
. "$state/env"

pkgs=(./internal/errdefs ./internal/securefs ./server/agent ./server/process ./server/service ./server/watch ./server/logs)
bin=$(mktemp -d)
trap 'rm -rf "$bin"; STATE=$state $harness down' EXIT
fail=0
for p in "${pkgs[@]}"; do
  exe=$bin/$(basename "$p").test.exe
  GOOS=windows GOARCH=amd64 CGO_ENABLED=0 go test -c -o "$exe" "$p"
  echo "--- wine64 $p ($(basename "$exe"))"
  if (cd "$(dirname "$exe")" && wine64 "$exe" -test.count=1 -test.v -test.timeout=5m) >"$exe.log" 2>&1; then
    grep -E '^(--- |ok|PASS|FAIL)|ListServices:' "$exe.log" | grep -v -- '--- PASS: .*/' || true
    echo "ok   $p under wine64"
  else
    cat "$exe.log"
    echo "FAIL $p under wine64"
    fail=1
  fi
done
if [ "${BENCH:-}" = 1 ]; then
  (cd "$bin" && wine64 "$bin/service.test.exe" -test.run '^$' -test.bench BenchmarkSCMList -test.benchtime 50x -test.count 3)
fi

echo "--- end to end: ctld.exe under Wine, Linux ctl over mTLS"
go test -count=1 -v -run 'Wine' ./test/e2e/ | grep -E '^(--- |ok|PASS|FAIL|\s+wine_test)' || fail=1
echo "wine lane: $(($(date +%s) - t0))s"
exit $fail
