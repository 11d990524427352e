#!/usr/bin/env bash
# The README's first command (`make demo`): start ctld on built-in defaults (the
# first run creates a dev CA and certificates in its state directory), drive it
# with ctl (which finds those certificates by itself), then stop ctld.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BIN:-bin}
log=$(mktemp -t ctld-demo.XXXXXX.log)

# Loopback only: the demo's dev certificates are for this host, and a demo
# has no reason to be reachable from the network (ctld's own default, :7443,
# is for agents that are meant to be reached: see README, "Listening").
"$bin/ctld" run --listen 127.0.0.1:7443 --log-format console >"$log" 2>&1 &
pid=$!
stop() { kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; }
trap stop EXIT

for _ in $(seq 100); do
  "$bin/ctl" heartbeat >/dev/null 2>&1 && break
  if ! kill -0 "$pid" 2>/dev/null; then echo "ctld exited; its log:" >&2; cat "$log" >&2; exit 1; fi
  sleep 0.1
done

run() { echo; echo "\$ ctl $*"; "$bin/ctl" "$@"; }
run heartbeat
run ps --top 5 --sort mem
run ps --top 2 --sort mem --fields name,user,memory -o json
echo; echo "\$ ctl ps watch --name 'demo-sleep*'   (a process starts and exits meanwhile)"
tmp=$(mktemp -d); cp "$(command -v sleep)" "$tmp/demo-sleep"
( sleep 1.5; "$tmp/demo-sleep" 1 ) &
timeout 5 "$bin/ctl" ps watch --name 'demo-sleep*' || true
rm -rf "$tmp"
run svc ls --state running || echo "(no service manager reachable on this host: ctl says why above)"
echo; echo "ctld log (first lines):"; head -n 5 "$log"
