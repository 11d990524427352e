#!/bin/bash
# systemd-harness.sh - run a REAL systemd for the service-manager integration
# tests on a machine whose PID 1 is not systemd (containers, Firecracker).
# systemd runs as PID 1 of private pid/mnt/uts/ipc/cgroup namespaces and is
# reachable over its own D-Bus system socket. Run as root.
#
#   up      start it (idempotent) and write $STATE/env        ~1 s
#   down    power it off cleanly and remove its cgroup (idempotent)
#   status  exit 0 and print the env when up, exit 3 when down
#
# Typical use:
#   scripts/systemd-harness.sh up && . /tmp/remotectl-systemd/env
#   go test ./server/service/... -count=1
#   scripts/systemd-harness.sh down
#
# Adapted from the shared reference harness (system-up/down).
set -euo pipefail

STATE=${STATE:-/tmp/remotectl-systemd}
# One cgroup per STATE, so that several harnesses (one per work tree) can run at once.
CGNAME=remotectl-harness-sys
[ "$STATE" = /tmp/remotectl-systemd ] || CGNAME=remotectl-harness-$(basename "$STATE")
TARGET=remotectl-harness.target

log() { echo "[systemd-harness $(date +%T.%3N)] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }
wait_for() { # wait_for COND [TENTHS]
	local i
	for i in $(seq 1 "${2:-100}"); do eval "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done
	return 1
}

[ "$(id -u)" = 0 ] || die "must run as root (it creates namespaces and cgroups)"

# cgroup v2 mount point: pure v2, or the "unified" part of a hybrid layout.
if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then CG2=/sys/fs/cgroup; else CG2=/sys/fs/cgroup/unified; fi

pkgs() {
	local missing=() p
	for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
	[ ${#missing[@]} -eq 0 ] && return 0
	log "installing ${missing[*]}"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null ||
		die "cannot install ${missing[*]} with apt-get"
}

# ns_pid prints the host PID of the namespaced systemd when it is alive.
ns_pid() {
	local p
	[ -f "$STATE/system.pid" ] || return 1
	p=$(cat "$STATE/system.pid")
	[ -n "$p" ] && kill -0 "$p" 2>/dev/null && [ "$(cat "/proc/$p/comm" 2>/dev/null)" = systemd ] || return 1
	echo "$p"
}

is_up() {
	local p
	p=$(ns_pid) || return 1
	[ -S "/proc/$p/root/run/dbus/system_bus_socket" ] || return 1
	# is-system-running exits non-zero when degraded (a test unit failed): read its output.
	case "$(nsenter -t "$p" -m -p systemctl is-system-running 2>/dev/null || true)" in
	running | degraded) return 0 ;;
	esac
	return 1
}

# mask_host_units masks every unit the distribution's targets pull in, except
# D-Bus and journald. The namespace shares the host's file systems (only /run,
# /sys/fs/cgroup and /etc/systemd/system are its own), so booting units would
# act on the host: systemd-tmpfiles-setup empties /tmp, sysusers edits
# /etc/passwd, update-utmp writes /var/log/wtmp, timers run apt and fstrim.
# They start whenever anything pulls in sysinit.target or basic.target, which
# every unit with default dependencies does (an installed ctld.service, say).
# A masked unit in a Wants= is skipped, so those targets are reached at once.
mask_host_units() {
	local u=$1 w n
	for w in /lib/systemd/system/*.wants/* /usr/lib/systemd/system/*.wants/*; do
		[ -e "$w" ] || [ -L "$w" ] || continue
		n=${w##*/}
		case $n in dbus.* | systemd-journald* | *@*) continue ;; esac
		ln -sfn /dev/null "$u/$n"
	done
	# Pulled in by generators or by other units' Wants= rather than .wants dirs.
	for n in tmp.mount systemd-remount-fs.service systemd-sysusers.service systemd-tmpfiles-setup.service \
		systemd-tmpfiles-setup-dev.service systemd-tmpfiles-clean.service systemd-tmpfiles-clean.timer \
		systemd-journal-flush.service systemd-update-utmp.service systemd-update-utmp-runlevel.service \
		systemd-random-seed.service systemd-machine-id-commit.service systemd-modules-load.service \
		systemd-sysctl.service systemd-hwdb-update.service systemd-journal-catalog-update.service \
		systemd-update-done.service ldconfig.service systemd-pstore.service systemd-fsck-root.service \
		systemd-binfmt.service systemd-firstboot.service systemd-logind.service console-getty.service; do
		ln -sfn /dev/null "$u/$n"
	done
}

# write_units fills the directory bind-mounted over /etc/systemd/system inside.
# Only these units are visible there: host enablement links stay hidden.
# StartLimitIntervalSec=0: tests start the same units many times in a row.
write_units() {
	local u=$1
	rm -rf "$u"
	mkdir -p "$u/dbus.socket.d" "$u/dbus.service.d" "$u/$TARGET.wants"
	for d in dbus.socket.d dbus.service.d; do printf '[Unit]\nDefaultDependencies=no\n' >"$u/$d/nodeps.conf"; done
	mask_host_units "$u"
	cat >"$u/$TARGET" <<-'EOF'
		[Unit]
		Description=remotectl harness target
		DefaultDependencies=no
		Wants=dbus.socket dbus.service
	EOF
	# Long-running service, enabled (UnitFileState "enabled"), running after boot.
	cat >"$u/remotectl-test.service" <<-'EOF'
		[Unit]
		Description=remotectl test service
		DefaultDependencies=no
		StartLimitIntervalSec=0
		[Service]
		ExecStart=/bin/sleep infinity
		[Install]
		WantedBy=remotectl-harness.target
	EOF
	ln -s ../remotectl-test.service "$u/$TARGET.wants/remotectl-test.service"
	ln -s remotectl-test.service "$u/remotectl-alias.service" # a second name (UnitFileState "alias")
	# Ends FAILED on every start: the oneshot's job result is "failed".
	cat >"$u/remotectl-fail.service" <<-'EOF'
		[Unit]
		Description=remotectl failing service
		DefaultDependencies=no
		StartLimitIntervalSec=0
		[Service]
		Type=oneshot
		ExecStart=/bin/false
	EOF
	# Needs ~3 s to become active (timeout tests).
	cat >"$u/remotectl-slow.service" <<-'EOF'
		[Unit]
		Description=remotectl slow service
		DefaultDependencies=no
		StartLimitIntervalSec=0
		[Service]
		ExecStartPre=/bin/sleep 3
		ExecStart=/bin/sleep infinity
	EOF
	# Private units for test/e2e, cmd/ctl and the service watcher tests
	# (remotectl-watch*): go test runs packages in parallel, and a unit stopped
	# by one package's test must not be one another expects running (plain
	# units, since a stopped template instance is unloaded).
	local n
	for n in remotectl-e2e remotectl-ctl remotectl-watch remotectl-watch-other remotectl-watch-ctl remotectl-watch-e2e remotectl-py remotectl-ts remotectl-fleet; do
		cat >"$u/$n.service" <<-EOF
			[Unit]
			Description=remotectl test service ($n)
			DefaultDependencies=no
			StartLimitIntervalSec=0
			[Service]
			ExecStart=/bin/sleep infinity
		EOF
	done
	sed 's/^Description=.*/Description=remotectl slow service (e2e)/' "$u/remotectl-slow.service" >"$u/remotectl-e2e-slow.service"
	# Needs ~3 s to stop (ctl's progress line for svc stop).
	cat >"$u/remotectl-slowstop.service" <<-'EOF'
		[Unit]
		Description=remotectl service slow to stop
		DefaultDependencies=no
		StartLimitIntervalSec=0
		[Service]
		ExecStart=/bin/sleep infinity
		ExecStop=/bin/sleep 3
	EOF
	# Private unit of scripts/test-http.sh (JSON over HTTPS, driven with curl).
	sed 's/(remotectl-e2e)/(remotectl-http)/' "$u/remotectl-e2e.service" >"$u/remotectl-http.service"
	ln -s /dev/null "$u/remotectl-masked.service"
	# Dependency pair: remotectl-dep Requires remotectl-base. remotectl-dep is
	# wanted by the target so it is loaded (systemd only knows reverse
	# dependencies, RequiredBy, of loaded units).
	cat >"$u/remotectl-base.service" <<-'EOF'
		[Unit]
		Description=remotectl dependency base
		DefaultDependencies=no
		StartLimitIntervalSec=0
		[Service]
		ExecStart=/bin/sleep infinity
	EOF
	cat >"$u/remotectl-dep.service" <<-'EOF'
		[Unit]
		Description=remotectl dependent service
		DefaultDependencies=no
		Requires=remotectl-base.service
		After=remotectl-base.service
		StartLimitIntervalSec=0
		[Service]
		ExecStart=/bin/sleep infinity
		[Install]
		WantedBy=remotectl-harness.target
	EOF
	ln -s ../remotectl-dep.service "$u/$TARGET.wants/remotectl-dep.service"
	# A template (never listed) with one instance started at boot.
	cat >"$u/remotectl-inst@.service" <<-'EOF'
		[Unit]
		Description=remotectl instance %i
		DefaultDependencies=no
		StartLimitIntervalSec=0
		[Service]
		ExecStart=/bin/sleep infinity
		[Install]
		WantedBy=remotectl-harness.target
	EOF
	ln -s ../remotectl-inst@.service "$u/$TARGET.wants/remotectl-inst@one.service"
	# Default dependencies (sysinit.target, basic.target) like any real service,
	# e.g. an installed ctld.service: tests start it to prove the host is untouched.
	cat >"$u/remotectl-default.service" <<-'EOF'
		[Unit]
		Description=remotectl service with default dependencies
		StartLimitIntervalSec=0
		[Service]
		ExecStart=/bin/sleep infinity
	EOF
	# Installable, disabled at boot: test/e2e enables and disables it
	# (svc enable/disable, SetServiceStartType).
	cat >"$u/remotectl-boot.service" <<-'EOF'
		[Unit]
		Description=remotectl start-type test service
		DefaultDependencies=no
		StartLimitIntervalSec=0
		[Service]
		ExecStart=/bin/sleep infinity
		[Install]
		WantedBy=remotectl-harness.target
	EOF
	# Security tests (issue 13): ctld-guard is protected by the default
	# "ctld*" rule and Requires=/PartOf= remotectl-guard-base, so stopping or
	# restarting the allowed base would take it down; starting
	# remotectl-guard-conflict would stop it (Conflicts=).
	cat >"$u/remotectl-guard-base.service" <<-'EOF'
		[Unit]
		Description=remotectl guard test base
		DefaultDependencies=no
		StartLimitIntervalSec=0
		[Service]
		ExecStart=/bin/sleep infinity
	EOF
	cat >"$u/ctld-guard.service" <<-'EOF'
		[Unit]
		Description=remotectl guard test: a protected service depending on an allowed one
		DefaultDependencies=no
		Requires=remotectl-guard-base.service
		PartOf=remotectl-guard-base.service
		After=remotectl-guard-base.service
		StartLimitIntervalSec=0
		[Service]
		ExecStart=/bin/sleep infinity
		[Install]
		WantedBy=remotectl-harness.target
	EOF
	ln -s ../ctld-guard.service "$u/$TARGET.wants/ctld-guard.service"
	cat >"$u/remotectl-guard-conflict.service" <<-'EOF'
		[Unit]
		Description=remotectl guard test: conflicts with a protected service
		DefaultDependencies=no
		Conflicts=ctld-guard.service
		StartLimitIntervalSec=0
		[Service]
		ExecStart=/bin/sleep infinity
	EOF
	# Installable but disabled and never loaded: only the unit-file listing knows it.
	cat >"$u/remotectl-disabled.service" <<-'EOF'
		[Unit]
		Description=remotectl disabled service
		DefaultDependencies=no
		StartLimitIntervalSec=0
		[Service]
		ExecStart=/bin/sleep infinity
		[Install]
		WantedBy=multi-user.target
	EOF
}

write_env() {
	local p=$1
	cat >"$STATE/env" <<-EOF
		export DBUS_SYSTEM_BUS_ADDRESS=unix:path=/proc/$p/root/run/dbus/system_bus_socket
		export REMOTECTL_SYSTEMD_NS_PID=$p
		# host PID of the namespaced PID 1; inside: nsenter -t $p -m -p systemctl ...
	EOF
}

up() {
	mkdir -p "$STATE"
	chmod 755 "$STATE"
	if is_up; then
		local p
		p=$(ns_pid)
		write_env "$p"
		log "already up: ns PID 1 = host pid $p"
		return 0
	fi
	down quiet # clear a half-started or crashed instance
	pkgs systemd dbus util-linux procps
	[ -x /lib/systemd/systemd ] || die "/lib/systemd/systemd missing after install"
	[ -d "$CG2" ] || die "no cgroup v2 hierarchy at $CG2"

	local u="$STATE/units"
	write_units "$u"
	: >"$STATE/console.log"
	cat >"$STATE/inner.sh" <<-EOF
		#!/bin/bash
		# PID 1 of new pid+mnt+uts+ipc+cgroup namespaces; protect the host like nspawn does.
		set -e
		mount --bind /proc/sys /proc/sys && mount -o remount,bind,ro /proc/sys
		mount --bind /sys /sys && mount -o remount,bind,ro /sys
		mount -t cgroup2 cgroup2 /sys/fs/cgroup   # root = our delegated cgroup (cgroupns)
		mount -t tmpfs -o mode=755 tmpfs /run
		mount --bind $u /etc/systemd/system       # only our units
		mount --bind $STATE/console.log /dev/console
		exec env -i container=remotectl-harness PATH=/usr/sbin:/usr/bin:/sbin:/bin /lib/systemd/systemd --unit=$TARGET
	EOF
	chmod +x "$STATE/inner.sh"
	mkdir -p "$CG2/$CGNAME"
	setsid bash -c "echo \$\$ > $CG2/$CGNAME/cgroup.procs; exec unshare --pid --fork --mount --uts --ipc --cgroup --mount-proc $STATE/inner.sh" \
		>"$STATE/system.log" 2>&1 </dev/null &
	echo $! >"$STATE/system.unshare.pid"

	local p="" i
	for i in $(seq 1 100); do
		p=$(pgrep -P "$(cat "$STATE/system.unshare.pid")" 2>/dev/null || true)
		[ -n "$p" ] && [ "$(cat "/proc/$p/comm" 2>/dev/null)" = systemd ] && break
		p=""
		sleep 0.1
	done
	if [ -z "$p" ]; then
		log "systemd did not start; $STATE/system.log:"
		cat "$STATE/system.log" >&2 || true
		down quiet
		die "cannot bring systemd up"
	fi
	echo "$p" >"$STATE/system.pid"
	if ! wait_for "is_up" 150; then
		log "systemd (host pid $p) did not reach running/degraded with a D-Bus socket; console:"
		tail -n 40 "$STATE/console.log" >&2 || true
		down quiet
		die "cannot bring systemd up"
	fi
	write_env "$p"
	log "up: ns PID 1 = host pid $p; env in $STATE/env"
}

down() {
	local quiet=${1:-} p u
	if [ -f "$STATE/system.pid" ]; then
		p=$(cat "$STATE/system.pid")
		u=$(cat "$STATE/system.unshare.pid" 2>/dev/null || echo "")
		if [ "$(cat "/proc/$p/comm" 2>/dev/null)" = systemd ]; then
			kill -s SIGRTMIN+4 "$p" 2>/dev/null || true # clean poweroff of the namespaced PID 1
			if ! wait_for "! kill -0 $p" 100; then
				log "systemd (host pid $p) did not power off in 10 s; killing it"
				kill -KILL "$p" 2>/dev/null || true
				wait_for "! kill -0 $p" 50 || true
			fi
		fi
		[ -n "$u" ] && wait_for "! kill -0 $u" 50 || true
	fi
	rm -f "$STATE/system.pid" "$STATE/system.unshare.pid" "$STATE/env"
	if [ -d "$CG2/$CGNAME" ]; then
		find "$CG2/$CGNAME" -depth -type d -exec rmdir {} \; 2>/dev/null || true
		[ -d "$CG2/$CGNAME" ] && log "warning: $CG2/$CGNAME still has processes: $(cat "$CG2/$CGNAME/cgroup.procs" 2>/dev/null | tr '\n' ' ')"
	fi
	[ -n "$quiet" ] || log down
}

status() {
	if is_up; then
		echo "up: ns PID 1 = host pid $(ns_pid)"
		cat "$STATE/env"
		return 0
	fi
	echo "down"
	return 3
}

case "${1:-}" in
up) up ;;
down) down ;;
status) status ;;
*) echo "usage: $0 up|down|status   (STATE=${STATE})" >&2; exit 2 ;;
esac
