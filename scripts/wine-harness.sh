#!/bin/bash
# wine-harness.sh - run Windows (GOOS=windows) Go binaries, test binaries
# included, against a REAL Windows service control manager: Wine's
# services.exe with its built-in services (Spooler, EventLog, RpcSs, ...).
#
#   up            install wine64 + mingw when missing, build the ProcessPrng
#                 shim, init the prefix, start wineserver (idempotent) ~15 s first time
#   run EXE ARGS  run a Windows binary in the prefix (after up)
#   env           print the environment to source (after up)
#   down          stop the prefix's wineserver and its processes (idempotent)
#   status        exit 0 when the prefix is initialised, 3 otherwise
#
# Typical use:
#   scripts/wine-harness.sh up && . /tmp/remotectl-wine/env
#   GOOS=windows go test -c -o x.test.exe ./server/service && wine64 ./x.test.exe -test.v
#   scripts/wine-harness.sh down
#
# Why the shim: Go >= 1.22 on Windows imports ProcessPrng from
# bcryptprimitives.dll, which Wine 8.0 (Debian 12) lacks; a ten-line DLL built
# with mingw supplies it from SystemFunction036 (RtlGenRandom).
# Adapted from the shared reference harness (testenv/wine-harness.sh).
set -euo pipefail

STATE=${STATE:-/tmp/remotectl-wine}
export WINEPREFIX=$STATE/prefix WINEDEBUG=${WINEDEBUG:--all} WINEARCH=win64 PATH=$PATH:/usr/lib/wine

log() { echo "[wine-harness $(date +%T.%3N)] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

pkgs() {
	local missing=() p
	for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" = 0 ] || die "${missing[*]} missing and not root: install them with apt-get"
	log "installing ${missing[*]}"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
		die "cannot install ${missing[*]} with apt-get"
}

shim() {
	local dll=$STATE/bcryptprimitives.dll
	[ -s "$dll" ] && return 0
	cat >"$STATE/prng.c" <<'C'
#include <windows.h>
BOOLEAN WINAPI SystemFunction036(PVOID buf, ULONG len);
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len > 0) {
        ULONG chunk = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!SystemFunction036(data, chunk)) return FALSE;
        data += chunk; len -= chunk;
    }
    return TRUE;
}
C
	x86_64-w64-mingw32-gcc -shared -O2 -o "$dll.tmp" "$STATE/prng.c" -ladvapi32 -Wl,--kill-at
	mv "$dll.tmp" "$dll"
}

# keeper runs a Windows program that sleeps until 'down'. Wine shuts its
# session down a few seconds after the last non-system process exits, and
# with it services.exe and every service it started: without a keeper an
# installed ctld started by 'ctld.exe start' dies as soon as that command
# returns, and each test binary pays the SCM's start-up again.
keeper() {
	if [ -f "$STATE/keeper.pid" ] && kill -0 "$(cat "$STATE/keeper.pid")" 2>/dev/null; then return 0; fi
	if [ ! -s "$STATE/keeper.exe" ]; then
		printf '#include <windows.h>\nint main(void) { Sleep(INFINITE); return 0; }\n' >"$STATE/keeper.c"
		x86_64-w64-mingw32-gcc -O2 -o "$STATE/keeper.exe" "$STATE/keeper.c"
	fi
	setsid wine64 "$STATE/keeper.exe" </dev/null >/dev/null 2>&1 &
	echo $! >"$STATE/keeper.pid"
}

writeenv() {
	cat >"$STATE/env" <<ENV
export WINEPREFIX=$WINEPREFIX WINEDEBUG=-all WINEARCH=win64 PATH=\$PATH:/usr/lib/wine
ENV
}

up() {
	mkdir -p "$STATE"
	pkgs wine64 gcc-mingw-w64-x86-64-win32
	shim
	if [ ! -d "$WINEPREFIX/drive_c/windows/system32" ]; then
		log "initialising the prefix $WINEPREFIX"
		wine64 wineboot --init >"$STATE/wineboot.log" 2>&1 || die "wineboot failed: see $STATE/wineboot.log"
		# wineboot returns before the prefix update and the first SCM start
		# finish; until then the SCM times requests out or reports its
		# database locked. Let that session end.
		wineserver -w
	fi
	cp "$STATE/bcryptprimitives.dll" "$WINEPREFIX/drive_c/windows/system32/"
	keeper
	wine64 cmd /c exit 0 >/dev/null 2>&1 || die "wine cannot run programs in $WINEPREFIX"
	local i
	for i in $(seq 1 100); do
		wine64 sc query Spooler 2>/dev/null | grep -q STATE && break
		[ "$i" = 100 ] && die "the SCM does not answer"
		sleep 0.2
	done
	writeenv
	log "up: . $STATE/env, then wine64 ./x.exe"
}

down() {
	[ -d "$WINEPREFIX" ] || return 0
	if [ -f "$STATE/keeper.pid" ]; then
		kill "$(cat "$STATE/keeper.pid")" 2>/dev/null || true
		rm -f "$STATE/keeper.pid"
	fi
	wineserver -k 2>/dev/null || true
	wineserver -w 2>/dev/null || true
	log "down"
}

case "${1:-}" in
up) up ;;
run) shift; [ -f "$STATE/env" ] || die "not up: run '$0 up' first"; exec wine64 "$@" ;;
env) [ -f "$STATE/env" ] || die "not up"; cat "$STATE/env" ;;
down) down ;;
status) [ -d "$WINEPREFIX/drive_c/windows/system32" ] && [ -f "$STATE/env" ] && cat "$STATE/env" || exit 3 ;;
*) echo "usage: $0 up|run EXE [ARGS]|env|down|status   (STATE=${STATE})" >&2; exit 2 ;;
esac
