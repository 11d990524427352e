#!/usr/bin/env bash
# Drives the JSON-over-HTTPS face of a real ctld with curl (docs/http.md):
# heartbeat, a filtered process listing, a process watch followed as NDJSON,
# a log file read and followed,
# starting and stopping a unit of a real systemd (scripts/systemd-harness.sh),
# and the refusals: no client certificate (handshake) and a viewer stopping a
# unit (403 naming the missing permission), each checked in the audit log.
# Run through `make test-http` (CI: .ci/run). Without root the systemd part
# skips with a message; in CI (CI=true) it must run.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
PY=/usr/bin/python3
UNIT=remotectl-http.service

command -v curl >/dev/null || {
  echo "test-http: apt-get install curl"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends curl >/dev/null 2>&1 ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends curl >/dev/null; }
}

work=$(mktemp -d)
ctld_pid= watch_pid= harness_state= child_pid=
cleanup() {
  for p in "$watch_pid" "$child_pid" "$ctld_pid"; do
    if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then kill -TERM "$p"; wait "$p" 2>/dev/null || true; fi
  done
  [ -n "$harness_state" ] && STATE=$harness_state scripts/systemd-harness.sh down
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; echo "--- ctld log" >&2; tail -20 "$work/ctld.log" >&2 || true; exit 1; }
ok() { echo "ok   $*"; }
# json EXPR: evaluate a Python expression over the JSON document on stdin (as j).
json() { $PY -c "import json, sys; j = json.load(sys.stdin); print($1)"; }

# A real systemd for the stop; ctld reaches it through DBUS_SYSTEM_BUS_ADDRESS.
systemd=0
if [ "$(id -u)" = 0 ]; then
  harness_state=${REMOTECTL_HTTP_SYSTEMD_STATE:-/tmp/remotectl-systemd-http}
  if STATE=$harness_state scripts/systemd-harness.sh up; then
    # shellcheck disable=SC1091
    . "$harness_state/env"
    systemd=1
  else
    harness_state=
    [ "${CI:-}" = true ] && fail "the systemd harness did not come up"
  fi
fi
[ $systemd = 1 ] || echo "test-http: SKIP the systemd stop (needs root and scripts/systemd-harness.sh)"

CGO_ENABLED=0 $GO build -o "$work/" ./cmd/ctl ./cmd/ctld
free_port() { $PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free_port) hport=$(free_port)
base=https://127.0.0.1:$hport
cat >"$work/ctld.yaml" <<YAML
authz:
  bindings:
    - {cn: remotectl-admin, role: admin}
    - {ou: viewers, role: viewer}
YAML
mkdir -p "$work/logs" && printf 'one\ntwo\nthree\n' >"$work/logs/app.log"
"$work/ctld" run --config "$work/ctld.yaml" --listen "127.0.0.1:$port" --http-listen "127.0.0.1:$hport" \
  --state-dir "$work/state" --poll-interval 200ms --logs-allow "$work/logs/**" --log-format json 2>"$work/ctld.log" &
ctld_pid=$!

certs=$work/state/certs
admin=(--cacert "$certs/ca.crt" --cert "$certs/client.crt" --key "$certs/client.key")
audit=$work/state/audit.log
for _ in $(seq 100); do
  [ -f "$certs/client.key" ] && curl -sf "${admin[@]}" "$base/v1/heartbeat" >/dev/null 2>&1 && break
  kill -0 "$ctld_pid" 2>/dev/null || fail "ctld exited at start"
  sleep 0.2
done
ok "ctld serving JSON over HTTPS on $base (gRPC on 127.0.0.1:$port)"

# Heartbeat.
out=$(curl -sS --fail-with-body "${admin[@]}" "$base/v1/heartbeat") || fail "heartbeat: $out"
host=$(json 'j["hostname"]' <<<"$out")
[ "$host" = "$(hostname)" ] || fail "heartbeat hostname $host, want $(hostname)"
ok "GET /v1/heartbeat: hostname $host, agentVersion $(json 'j["agentVersion"]' <<<"$out")"

# A filtered listing: our own child, by a unique name.
name=rhttp$$
cp "$(command -v sleep)" "$work/$name"
"$work/$name" 300 & child_pid=$!
out=$(curl -sS --fail-with-body "${admin[@]}" "$base/v1/processes?filter.nameGlob=$name&fields=PROCESS_FIELD_NAME&sort=PROCESS_SORT_PID&limit=5") ||
  fail "list: $out"
got=$(json '" ".join(str(p["pid"]) for p in j["processes"])' <<<"$out")
[ "$got" = "$child_pid" ] || fail "list filter.nameGlob=$name: pids '$got', want $child_pid: $out"
ok "GET /v1/processes?filter.nameGlob=$name: pid $got, totalMatched $(json 'j["totalMatched"]' <<<"$out")"

# A process watch as NDJSON: a second child's start and exit arrive as lines.
curl -sS -N "${admin[@]}" "$base/v1/processes:watch?filter.nameGlob=$name&includeExisting=true" >"$work/watch.ndjson" &
watch_pid=$!
wait_line() { # wait_line PYTHON-CONDITION-ON-EVENT WHAT
  for _ in $(seq 150); do
    $PY - "$work/watch.ndjson" "$1" <<'PY' && return 0
import json, sys
for line in open(sys.argv[1]):
    if not line.endswith("\n"):
        break
    e = json.loads(line).get("result", {}).get("event", {})
    if eval(sys.argv[2], {"e": e}):
        sys.exit(0)
sys.exit(1)
PY
    sleep 0.1
  done
  fail "watch: no $2 line in $(head -c 2000 "$work/watch.ndjson")"
}
wait_line 'e.get("type") == "PROCESS_EVENT_TYPE_SYNCED"' "SYNCED"
"$work/$name" 301 & second=$!
wait_line "e.get('type') == 'PROCESS_EVENT_TYPE_STARTED' and e['process']['pid'] == $second" "STARTED $second"
kill "$second"; wait "$second" 2>/dev/null || true
wait_line "e.get('type') == 'PROCESS_EVENT_TYPE_EXITED' and e['process']['pid'] == $second" "EXITED $second"
kill "$watch_pid"; wait "$watch_pid" 2>/dev/null || true; watch_pid=
ok "GET /v1/processes:watch (NDJSON): EXISTING/SYNCED, then STARTED and EXITED of pid $second ($(wc -l <"$work/watch.ndjson") lines)"

# Logs: the last lines of a file, then a follow (NDJSON) sees an appended line.
out=$(curl -sS --fail-with-body "${admin[@]}" "$base/v1/logs?source.file=$work/logs/app.log&lines=2") || fail "logs: $out"
got=$(json '",".join(e["message"] for e in j["entries"])' <<<"$out")
[ "$got" = two,three ] || fail "GET /v1/logs lines=2: $got: $out"
curl -sS -N "${admin[@]}" "$base/v1/logs:follow?source.file=$work/logs/app.log&lines=1" >"$work/follow.ndjson" &
watch_pid=$!
for _ in $(seq 100); do grep -q '"three"' "$work/follow.ndjson" 2>/dev/null && break; sleep 0.1; done
echo four >>"$work/logs/app.log"
for _ in $(seq 150); do grep -q '"four"' "$work/follow.ndjson" && break; sleep 0.1; done
grep -q '"four"' "$work/follow.ndjson" || fail "logs:follow did not deliver the appended line: $(head -c 2000 "$work/follow.ndjson")"
kill "$watch_pid"; wait "$watch_pid" 2>/dev/null || true; watch_pid=
ok "GET /v1/logs?lines=2: $got; GET /v1/logs:follow (NDJSON) delivered an appended line"

# The OpenAPI document.
out=$(curl -sS --fail-with-body "${admin[@]}" "$base/openapi.json") || fail "openapi: $out"
n=$(json 'len(j["paths"])' <<<"$out")
ok "GET /openapi.json: $n paths"

# No client certificate: refused in the TLS handshake, as over gRPC, and audited.
if out=$(curl -sS --cacert "$certs/ca.crt" "$base/v1/heartbeat" 2>&1); then fail "no client certificate was served: $out"; fi
for _ in $(seq 50); do grep -q '"method":"tls-handshake"' "$audit" && break; sleep 0.1; done
grep '"method":"tls-handshake"' "$audit" | grep -q '"event":"denied"' || fail "no audit record of the refused handshake"
ok "no client certificate: curl fails ($(tail -c 80 <<<"$out")), audit: denied tls-handshake"

# A viewer: may list, may not stop (403 naming the permission), audited with its identity.
"$work/ctl" certs client --ca-dir "$certs" --cn vera --ou viewers --out "$work/vera" >/dev/null 2>&1 || fail "issuing the viewer certificate"
viewer=(--cacert "$certs/ca.crt" --cert "$work/vera/client.crt" --key "$work/vera/client.key")
code=$(curl -sS -o /dev/null -w '%{http_code}' "${viewer[@]}" "$base/v1/processes?limit=1")
[ "$code" = 200 ] || fail "viewer list: HTTP $code"
code=$(curl -sS -o "$work/denied.json" -w '%{http_code}' -X POST "${viewer[@]}" "$base/v1/services/$UNIT:stop")
[ "$code" = 403 ] || fail "viewer stop: HTTP $code, want 403: $(cat "$work/denied.json")"
msg=$(json 'j["message"]' <"$work/denied.json")
grep -q "missing permission services.control" <<<"$msg" || fail "viewer stop refusal does not name services.control: $msg"
grep '"event":"denied"' "$audit" | grep '"method":"/remotectl.v1.ServiceManager/StopService"' | grep -q 'CN=vera' ||
  fail "no audit denial for vera's stop"
ok "viewer POST /v1/services/$UNIT:stop: HTTP 403 \"$msg\"; audit: denied, identity CN=vera"

if [ $systemd = 1 ]; then
  out=$(curl -sS --fail-with-body -X POST "${admin[@]}" "$base/v1/services/$UNIT:start" -d '{"timeout":"20s"}') || fail "start: $out"
  [ "$(json 'j["service"]["state"]' <<<"$out")" = SERVICE_STATE_RUNNING ] || fail "start: $out"
  out=$(curl -sS --fail-with-body -X POST "${admin[@]}" "$base/v1/services/$UNIT:stop" -d '{"timeout":"20s"}') || fail "stop: $out"
  st=$(json 'j["service"]["state"] + " " + j["previousState"] + " " + str(j["changed"])' <<<"$out")
  [ "$st" = "SERVICE_STATE_STOPPED SERVICE_STATE_RUNNING True" ] || fail "stop: $st: $out"
  out=$(curl -sS --fail-with-body "${admin[@]}" "$base/v1/services/$UNIT") || fail "get: $out"
  [ "$(json 'j["service"]["state"]' <<<"$out")" = SERVICE_STATE_STOPPED ] || fail "get after stop: $out"
  rec=$(grep '"event":"result"' "$audit" | grep '"method":"/remotectl.v1.ServiceManager/StopService"' | tail -1)
  $PY - "$rec" <<'PY' || fail "audit of the HTTP stop: $rec"
import json, sys
r = json.loads(sys.argv[1])
assert r["identity"].startswith("CN=remotectl-admin"), r
assert r["target"] == "remotectl-http.service" and r["outcome"] == "OK", r
assert r["state_before"] == "running" and r["state_after"] == "stopped", r
assert r["peer"].startswith("127.0.0.1:"), r
PY
  ok "POST /v1/services/$UNIT:start and :stop (systemd): stopped, was running; audit: result OK, identity $($PY -c 'import json,sys; print(json.loads(sys.argv[1])["identity"])' "$rec")"
fi
echo "test-http: all checks passed"
