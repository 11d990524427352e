#!/usr/bin/env bash
# The whole `ctl ps -o json` process against ps(1) at ~N processes (default
# 1000): start, TLS handshake, listing, print, exit. Runs alternate (ctl, ps,
# ctl, ps, ...) in one session so machine noise hits both alike; the figures
# are the median of the paired ratios and the ratio of the medians
# (`make bench-ctl`; not in CI).
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

procs=(/proc/[0-9]*) # a glob, not ls: processes come and go while it runs
have=${#procs[@]}
for _ in $(seq $((PROCS - have))); do sleep 600 & sleepers+=($!); done
n=$("$work/ctl" ps -o name | wc -l)
echo "bench-ctl: $n processes, $RUNS alternating runs each"

ctl_cmd=("$work/ctl" ps -o json)
ps_cmd=(ps -eo pid,ppid,user,stat,lstart,rss,vsz,nlwp,pcpu,args)
"${ctl_cmd[@]}" >/dev/null; "${ps_cmd[@]}" >/dev/null # warm caches
# BASELINE=path/to/another/ctl times that one too, in the same rotation.
$PY - "$RUNS" "${ctl_cmd[*]}" "${ps_cmd[*]}" "${BASELINE:-}" <<'PYEOF'
import statistics, subprocess, sys, time
runs, ctl, ps, base = int(sys.argv[1]), sys.argv[2].split(), sys.argv[3].split(), sys.argv[4]
cmds = [("ctl", ctl), ("ps", ps)] + ([("baseline", [base] + ctl[1:])] if base else [])
t = {name: [] for name, _ in cmds}
def once(name, cmd):
    s = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
    t[name].append(time.perf_counter() - s)
for i in range(runs):
    # alternate which goes first, so neither always runs on a warmer machine
    for name, cmd in (cmds if i % 2 == 0 else cmds[::-1]):
        once(name, cmd)
if base:
    mb = statistics.median(t["baseline"])
    print("FIGURE baseline %s / ps: median of paired ratios %.2f, ratio of medians %.2f  (median %.1f ms)"
          % (base, statistics.median(b / p for b, p in zip(t["baseline"], t["ps"])), mb / statistics.median(t["ps"]), mb * 1e3))
mc, mp = statistics.median(t["ctl"]), statistics.median(t["ps"])
# Each run's ctl against the ps right next to it: load drifts over a session,
# and a pair sees the same load.
paired = statistics.median(c / p for c, p in zip(t["ctl"], t["ps"]))
print("FIGURE ctl ps -o json / ps: median of paired ratios %.2f, ratio of medians %.2f  (ctl median %.1f ms, ps median %.1f ms; runs %d)"
      % (paired, mc / mp, mc * 1e3, mp * 1e3, runs))
PYEOF
