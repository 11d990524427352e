#!/usr/bin/env bash
# The whole `ctl ps -o json` process against ps(1) at ~N processes (default
# 1000): start, TLS handshake, listing, print, exit. Runs alternate (ctl, ps,
# ctl, ps, ...) in one session so machine noise hits both alike, and the
# figure is the ratio of the medians (`make bench-ctl`; not in CI).
#   RUNS=41 PROCS=1000 scripts/bench-ctl.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-41}
PROCS=${PROCS:-1000}
GO=${GO:-go}
PY=/usr/bin/python3
work=$(mktemp -d)
ctld_pid=
sleepers=()
cleanup() {
  [ ${#sleepers[@]} -gt 0 ] && kill "${sleepers[@]}" 2>/dev/null || true
  if [ -n "$ctld_pid" ]; then kill -TERM "$ctld_pid" 2>/dev/null; wait "$ctld_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

CGO_ENABLED=0 $GO build -trimpath -ldflags '-s -w' -o "$work/" ./cmd/ctl ./cmd/ctld
port=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$work/ctld" run --listen "127.0.0.1:$port" --state-dir "$work/state" --log-format json 2>"$work/ctld.log" &
ctld_pid=$!
export CTL_HOST=127.0.0.1:$port CTLD_STATE_DIR=$work/state
for _ in $(seq 100); do "$work/ctl" heartbeat >/dev/null 2>&1 && break; sleep 0.1; done

have=$(ls -d /proc/[0-9]* | wc -l)
for _ in $(seq $((PROCS - have))); do sleep 600 & sleepers+=($!); done
n=$("$work/ctl" ps -o name | wc -l)
echo "bench-ctl: $n processes, $RUNS alternating runs each"

ctl_cmd=("$work/ctl" ps -o json)
ps_cmd=(ps -eo pid,ppid,user,stat,lstart,rss,vsz,nlwp,pcpu,args)
"${ctl_cmd[@]}" >/dev/null; "${ps_cmd[@]}" >/dev/null # warm caches
$PY - "$RUNS" "${ctl_cmd[*]}" "${ps_cmd[*]}" <<'PYEOF'
import statistics, subprocess, sys, time
runs, ctl, ps = int(sys.argv[1]), sys.argv[2].split(), sys.argv[3].split()
t = {"ctl": [], "ps": []}
def once(name, cmd):
    s = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
    t[name].append(time.perf_counter() - s)
for i in range(runs):
    # alternate which goes first, so neither always runs on a warmer machine
    order = [("ctl", ctl), ("ps", ps)] if i % 2 == 0 else [("ps", ps), ("ctl", ctl)]
    for name, cmd in order:
        once(name, cmd)
mc, mp = statistics.median(t["ctl"]), statistics.median(t["ps"])
print("FIGURE ctl ps -o json / ps median ratio: %.2f  (ctl median %.1f ms, ps median %.1f ms; runs %d)" % (mc / mp, mc * 1e3, mp * 1e3, runs))
PYEOF
