#!/usr/bin/env bash
# Tests the API from outside Go against a real ctld on 127.0.0.1 with a fresh
# state dir (so a fresh dev PKI): grpcurl (reflection: list, describe, calls),
# grpc-health-probe over mTLS (overall and per service), the Prometheus
# listener, then the Python and the TypeScript client test suites.
# Run through `make test-clients`, which builds the pinned grpcurl and
# grpc-health-probe and passes them in GRPCURL and HEALTH_PROBE.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
: "${GRPCURL:?set GRPCURL (make test-clients does)}" "${HEALTH_PROBE:?set HEALTH_PROBE (make test-clients does)}"
GO=${GO:-go}
PY=/usr/bin/python3 # Debian's interpreter: python3-grpcio lives in its dist-packages

# Dependencies: Debian's gRPC Python runtime and the npm-pinned Node packages.
need=()
# python3-venv, -setuptools and -wheel: `pip install ./clients/python` into a venv, offline.
for p in python3-grpcio python3-protobuf python3-venv python3-setuptools python3-wheel; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
if [ ${#need[@]} -gt 0 ]; then
  echo "test-clients: apt-get install ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1 ||
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; }
fi
command -v node >/dev/null || { echo "test-clients: Node.js >= 20 and npm are required" >&2; exit 1; }
npm ci --prefix clients/ts --prefer-offline --no-audit --no-fund --loglevel=error
echo "test-clients: node $(node --version), $($PY -c 'import sys, grpc, google.protobuf as p; print("python %s, grpcio %s, protobuf %s" % (sys.version.split()[0], grpc.__version__, p.__version__))')"

work=$(mktemp -d)
ctld_pid=
harness_up=0
# ctld's service RPCs run against a real systemd (the harness) when root, so
# the clients' service control and service watch tests run too.
harness_state=${REMOTECTL_CLIENTS_SYSTEMD_STATE:-/tmp/remotectl-systemd-clients}
cleanup() {
  if [ -n "$ctld_pid" ] && kill -0 "$ctld_pid" 2>/dev/null; then
    kill -TERM "$ctld_pid"
    wait "$ctld_pid" || true
  fi
  [ $harness_up = 1 ] && STATE=$harness_state scripts/systemd-harness.sh down || true
  rm -rf "$work"
}
trap cleanup EXIT
if [ "$(id -u)" = 0 ] && [ -z "${REMOTECTL_NO_SYSTEMD:-}" ]; then
  if STATE=$harness_state scripts/systemd-harness.sh up; then
    harness_up=1
    # shellcheck disable=SC1091
    . "$harness_state/env"
  elif [ "${CI:-}" = true ]; then
    echo "test-clients: the systemd harness did not come up" >&2; exit 1
  fi
fi

CGO_ENABLED=0 $GO build -o "$work/" ./cmd/ctl ./cmd/ctld
free_port() { $PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free_port)
mport=$(free_port)
addr=127.0.0.1:$port
"$work/ctld" run --listen "$addr" --metrics-listen "127.0.0.1:$mport" --state-dir "$work/state" \
  --poll-interval 200ms --log-format json 2>"$work/ctld.log" &
ctld_pid=$!

certs=$work/state/certs
tls=(-cacert "$certs/ca.crt" -cert "$certs/client.crt" -key "$certs/client.key")
probe=(-addr "$addr" -tls -tls-ca-cert "$certs/ca.crt" -tls-client-cert "$certs/client.crt" -tls-client-key "$certs/client.key")
fail() { echo "FAIL: $*" >&2; echo "--- ctld log" >&2; tail -20 "$work/ctld.log" >&2; exit 1; }
ok() { echo "ok   $*"; }

for _ in $(seq 100); do
  [ -f "$certs/client.key" ] && "$HEALTH_PROBE" "${probe[@]}" >/dev/null 2>&1 && break
  kill -0 "$ctld_pid" 2>/dev/null || fail "ctld exited at start"
  sleep 0.2
done
ok "ctld $("$work/ctld" version 2>/dev/null | head -1) serving on $addr (metrics on 127.0.0.1:$mport)"

echo "== $(basename "$GRPCURL")"
out=$("$GRPCURL" "${tls[@]}" "$addr" list) || fail "grpcurl list"
for s in remotectl.v1.AgentService remotectl.v1.ProcessService remotectl.v1.ServiceManager grpc.health.v1.Health; do
  grep -qx "$s" <<<"$out" || fail "grpcurl list lacks $s: $out"
done
ok "grpcurl list: $(tr '\n' ' ' <<<"$out")"
out=$("$GRPCURL" "${tls[@]}" "$addr" describe remotectl.v1.ProcessService) || fail "grpcurl describe"
grep -q "rpc WatchProcesses ( .remotectl.v1.WatchProcessesRequest ) returns ( stream .remotectl.v1.WatchProcessesResponse )" <<<"$out" ||
  fail "describe: $out"
ok "grpcurl describe remotectl.v1.ProcessService (ListProcesses, WatchProcesses)"
# Reflection serves the descriptors with source info: describe shows the docs.
out=$("$GRPCURL" "${tls[@]}" "$addr" describe remotectl.v1.ProcessService.ListProcesses) || fail "grpcurl describe method"
grep -q "^// ListProcesses returns one consistent listing" <<<"$out" || fail "describe ListProcesses shows no documentation: $out"
ok "grpcurl describe remotectl.v1.ProcessService.ListProcesses:"
sed 's/^/       /' <<<"$out"
out=$("$GRPCURL" "${tls[@]}" "$addr" describe remotectl.v1.ListProcessesRequest.limit) || fail "grpcurl describe field"
ok "grpcurl describe remotectl.v1.ListProcessesRequest.limit: $(grep -v '^remotectl' <<<"$out" | tr -s ' \n' ' ')"
out=$("$GRPCURL" "${tls[@]}" "$addr" remotectl.v1.AgentService/Heartbeat) || fail "grpcurl Heartbeat"
host=$($PY -c 'import json, sys; print(json.load(sys.stdin)["hostname"])' <<<"$out")
[ "$host" = "$(hostname)" ] || fail "Heartbeat hostname $host, want $(hostname)"
ok "grpcurl remotectl.v1.AgentService/Heartbeat: hostname $host"
out=$("$GRPCURL" "${tls[@]}" "$addr" remotectl.v1.AgentService/WhoAmI) || fail "grpcurl WhoAmI"
cn=$($PY -c 'import json, sys; print(json.load(sys.stdin)["commonName"])' <<<"$out")
[ "$cn" = remotectl-admin ] || fail "WhoAmI commonName $cn, want remotectl-admin: $out"
ok "grpcurl remotectl.v1.AgentService/WhoAmI: commonName $cn"
out=$("$GRPCURL" "${tls[@]}" -d '{"limit": 3, "sort": "PROCESS_SORT_PID", "fields": ["PROCESS_FIELD_NAME"]}' "$addr" remotectl.v1.ProcessService/ListProcesses) ||
  fail "grpcurl ListProcesses"
n=$($PY -c 'import json, sys; r = json.load(sys.stdin); print(len(r["processes"]), r["totalMatched"])' <<<"$out")
[ "${n% *}" = 3 ] && [ "${n#* }" -ge 3 ] || fail "ListProcesses limit 3: got $n: $out"
ok "grpcurl remotectl.v1.ProcessService/ListProcesses limit 3: 3 of ${n#* } processes"
set +e
out=$("$GRPCURL" "${tls[@]}" -d '{"filter": {"name_glob": "[oops"}}' "$addr" remotectl.v1.ProcessService/ListProcesses 2>&1)
rc=$?
set -e
[ $rc -ne 0 ] && grep -q "Code: InvalidArgument" <<<"$out" || fail "bad glob: rc $rc: $out"
ok "grpcurl bad glob -> Code: InvalidArgument"

echo "== $(basename "$HEALTH_PROBE")"
for svc in "" remotectl.v1.AgentService remotectl.v1.ProcessService; do
  out=$("$HEALTH_PROBE" "${probe[@]}" -service "$svc" 2>&1) || fail "health ${svc:-(overall)}: $out"
  ok "grpc-health-probe -service '${svc}': $out"
done
# ServiceManager is NOT_SERVING (exit 4) where no service manager is reachable.
avail=$("$GRPCURL" "${tls[@]}" "$addr" remotectl.v1.AgentService/Heartbeat |
  $PY -c 'import json, sys; print([b for b in json.load(sys.stdin)["backends"] if b["capability"] == "services"][0].get("available", False))')
want=4
[ "$avail" = True ] && want=0
set +e
out=$("$HEALTH_PROBE" "${probe[@]}" -service remotectl.v1.ServiceManager 2>&1)
rc=$?
out2=$("$HEALTH_PROBE" "${probe[@]}" -service no.such.Service 2>&1)
rc2=$?
out3=$("$HEALTH_PROBE" -addr "$addr" -tls -tls-ca-cert "$certs/ca.crt" 2>&1) # no client certificate
rc3=$?
set -e
[ $rc = $want ] || fail "health ServiceManager: rc $rc, want $want (services available: $avail): $out"
ok "grpc-health-probe -service remotectl.v1.ServiceManager: exit $rc (services available: $avail): $out"
[ $rc2 = 3 ] && grep -q NotFound <<<"$out2" || fail "health unknown service: rc $rc2: $out2"
ok "grpc-health-probe -service no.such.Service: exit 3: $out2"
[ $rc3 = 2 ] || fail "health without a client certificate: rc $rc3 (want 2, connection failure): $out3"
ok "grpc-health-probe without a client certificate: exit 2 (connection failure: handshake refused): $(head -c 120 <<<"$out3")"

echo "== Prometheus metrics"
metrics=$($PY -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())' "http://127.0.0.1:$mport/metrics")
line=$(grep -E '^grpc_server_handled_total\{grpc_code="OK",grpc_method="Heartbeat",grpc_service="remotectl.v1.AgentService",grpc_type="unary"\} [1-9]' <<<"$metrics") ||
  fail "no Heartbeat OK count in /metrics"
ok "/metrics: $line"
line=$(grep -E '^grpc_server_handled_total\{grpc_code="InvalidArgument",grpc_method="ListProcesses",.*\} 1$' <<<"$metrics") ||
  fail "no ListProcesses InvalidArgument count in /metrics"
ok "/metrics: $line"
grep -qE '^remotectl_backend_call_duration_seconds_count\{backend="processes",op="list"\} [1-9]' <<<"$metrics" ||
  fail "no backend latency samples in /metrics"
ok "/metrics: $(grep -E '^remotectl_backend_call_duration_seconds_count\{backend="processes",op="list"\}' <<<"$metrics")"

# For the clients' refusal tests: a certificate from the agent's CA that no
# authorization binding matches, and one from a CA the agent does not trust.
"$work/ctl" certs client --ca-dir "$certs" --cn rctl-unbound --out "$work/unbound" >/dev/null
"$work/ctl" certs ca --out "$work/rogue" >/dev/null
"$work/ctl" certs client --ca-dir "$work/rogue" --cn rogue --out "$work/rogue" >/dev/null
export REMOTECTL_ADDR=$addr REMOTECTL_CA=$certs/ca.crt REMOTECTL_CERT=$certs/client.crt REMOTECTL_KEY=$certs/client.key \
  REMOTECTL_UNBOUND_CERT=$work/unbound/client.crt REMOTECTL_UNBOUND_KEY=$work/unbound/client.key \
  REMOTECTL_ROGUE_CERT=$work/rogue/client.crt REMOTECTL_ROGUE_KEY=$work/rogue/client.key

echo "== Python client: pip install ./clients/python into a fresh venv, offline"
# --system-site-packages: grpcio, protobuf, setuptools and wheel come from
# Debian; --no-build-isolation --no-index: pip asks no package index. pip
# builds in the source tree, so it installs from a copy.
$PY -m venv --system-site-packages "$work/venv"
cp -r clients/python "$work/pysrc"
"$work/venv/bin/pip" install -q --no-build-isolation --no-index "$work/pysrc" 2>&1 | grep -v -i 'beta' || true
# The tests run from a directory without the sources: they import the installed package.
mkdir "$work/pytest" && cp -r clients/python/tests "$work/pytest/"
(cd "$work/pytest" && "$work/venv/bin/python" -c 'import remotectl_client, remotectl.v1.agent_pb2 as a; print("ok   import remotectl_client from", remotectl_client.__file__)')
pyunit=
[ $harness_up = 1 ] && pyunit=remotectl-py.service
(cd "$work/pytest" && REMOTECTL_PY_UNIT=$pyunit GRPC_VERBOSITY=NONE "$work/venv/bin/python" -m unittest discover -v -s tests -t .)
# The documented example, as written (docs/clients/python.md).
out=$(cd "$work/pytest" && REMOTECTL_ADDR=$addr REMOTECTL_CERTS=$certs REMOTECTL_UNIT=$pyunit GRPC_VERBOSITY=NONE \
  "$work/venv/bin/python" "$repo/clients/python/examples/quickstart.py") || fail "quickstart.py: $out"
grep -q "^host $(hostname) (linux)" <<<"$out" && grep -q "^follow ended$" <<<"$out" || fail "quickstart.py output: $out"
[ -z "$pyunit" ] || grep -q "^$pyunit: .* -> SERVICE_STATE_RUNNING$" <<<"$out" || fail "quickstart.py restart: $out"
ok "python3 clients/python/examples/quickstart.py:"
sed 's/^/       /' <<<"$out"

echo "== TypeScript client (node --test)"
tsunit=
[ $harness_up = 1 ] && tsunit=remotectl-ts.service
REMOTECTL_TS_UNIT=$tsunit npm --prefix clients/ts test --silent

echo "== TypeScript package: npm pack, then the documented example from a scratch project"
(cd clients/ts && npm pack --pack-destination "$work" --loglevel=error >/dev/null)
tgz=$work/remotectl-client-0.1.0.tgz
contents=$(tar tzf "$tgz" | sort)
for f in package/dist/index.js package/dist/index.d.ts package/dist/follow.js package/dist/gen/remotectl/v1/service_pb.d.ts; do
  grep -qx "$f" <<<"$contents" || fail "npm pack lacks $f: $contents"
done
! grep -E '(^package/(src|test|build)/|\.test\.|tsconfig|\.ts$)' <<<"$contents" | grep -v '\.d\.ts$' ||
  fail "npm pack ships sources or tests: $contents"
ok "npm pack: $(wc -l <<<"$contents") files, built JS and .d.ts only: $(tr '\n' ' ' <<<"$contents")"
scratch=$work/scratch
mkdir "$scratch" && cp clients/ts/examples/quickstart.mjs "$scratch/"
(cd "$scratch" && npm init -y >/dev/null && npm pkg set type=module &&
  npm install --prefer-offline --no-audit --no-fund --loglevel=error "$tgz" >/dev/null)
# Type-check the example against the installed package's own types (exports -> .d.ts).
ts=clients/ts/node_modules
node $ts/typescript/bin/tsc --noEmit --allowJs --checkJs --strict --module nodenext --moduleResolution nodenext \
  --target es2022 --skipLibCheck --typeRoots $ts/@types --types node "$scratch/quickstart.mjs" || fail "quickstart.mjs does not type-check"
out=$(cd "$scratch" && REMOTECTL_ADDR=$addr REMOTECTL_CERTS=$certs REMOTECTL_UNIT=$tsunit node quickstart.mjs) || fail "quickstart.mjs: $out"
grep -q "^host $(hostname) (linux)" <<<"$out" && grep -q "^follow ended$" <<<"$out" || fail "quickstart.mjs output: $out"
[ -z "$tsunit" ] || grep -q "^$tsunit: .* -> RUNNING$" <<<"$out" || fail "quickstart.mjs restart: $out"
ok "scratch project: npm install $(basename "$tgz"); node quickstart.mjs:"
sed 's/^/       /' <<<"$out"

kill -TERM "$ctld_pid"
wait "$ctld_pid" || fail "ctld did not exit cleanly"
ctld_pid=
ok "ctld stopped cleanly"
echo "test-clients: all passed"
