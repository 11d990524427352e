package service

import (
	"context"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/remotectl/remotectl/internal/errdefs"
)

// NewWatcher returns the systemd watcher. It keeps one private D-Bus
// connection while anyone watches, matches systemd's PropertiesChanged
// signals for units (its own match rather than go-systemd's
// SetSubStateSubscriber, which can loop forever on units systemd unloads),
// and after a lost connection reconnects with backoff, re-lists and reports
// what changed meanwhile.
func NewWatcher() Watcher { return newHub(systemdSource, displayName) }

const (
	systemdDest     = "org.freedesktop.systemd1"
	systemdPath     = "/org/freedesktop/systemd1"
	unitIface       = "org.freedesktop.systemd1.Unit"
	serviceIface    = "org.freedesktop.systemd1.Service"
	unitPathPrefix  = "/org/freedesktop/systemd1/unit/"
	maxReconnectGap = 30 * time.Second
	// signalBuffer bounds the signals queued for the watcher; a longer
	// backlog is dropped and replaced by a re-listing (see signalQueue).
	signalBuffer = 4096
)

func systemdSource(ctx context.Context, h *hub) {
	backoff := time.Second
	ready := false
	for {
		synced, err := watchOnce(ctx, h)
		if ctx.Err() != nil {
			return
		}
		if !ready && !synced {
			h.failed(ctx, err)
			return
		}
		ready = true
		if synced {
			backoff = time.Second // the connection worked: start over
		}
		select { // lost the bus after a good start: retry
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxReconnectGap)
	}
}

// watchOnce connects, subscribes, lists and follows signals until the
// connection drops or ctx ends. synced says whether it got as far as
// handing a snapshot to the hub.
func watchOnce(ctx context.Context, h *hub) (synced bool, err error) {
	sig := newSignalQueue(signalBuffer)
	conn, err := connectBus(ctx, sig)
	if err != nil {
		return false, err
	}
	defer func() { _ = conn.Close() }()
	if err := conn.AddMatchSignalContext(ctx,
		dbus.WithMatchSender(systemdDest),
		dbus.WithMatchInterface("org.freedesktop.DBus.Properties"),
		dbus.WithMatchMember("PropertiesChanged"),
		dbus.WithMatchPathNamespace(dbus.ObjectPath(strings.TrimSuffix(unitPathPrefix, "/")))); err != nil {
		return false, mapErr(ctx, nil, err, "")
	}
	mgr := conn.Object(systemdDest, systemdPath)
	// Without a subscriber systemd may not emit unit signals at all.
	if err := mgr.CallWithContext(ctx, "org.freedesktop.systemd1.Manager.Subscribe", 0).Err; err != nil {
		return false, mapErr(ctx, nil, err, "")
	}
	pids, err := resync(ctx, h, conn, sig)
	if err != nil {
		return false, err
	}
	for {
		select {
		case <-ctx.Done():
			return true, nil
		case <-sig.done:
			return true, fmt.Errorf("%w: lost the D-Bus connection to systemd", errdefs.ErrUnavailable)
		case <-sig.ready:
		}
		batch, overflow := sig.take()
		if overflow { // signals were dropped: re-list and report the differences
			if pids, err = resync(ctx, h, conn, sig); err != nil {
				return true, err
			}
			continue
		}
		for _, s := range batch {
			applySignal(ctx, h, s, pids)
		}
	}
}

// resync lists the services, hands the snapshot to the hub and returns the
// main pids it found.
func resync(ctx context.Context, h *hub, conn *dbus.Conn, sig *signalQueue) (map[string]int32, error) {
	snap, err := listUnits(ctx, conn, sig)
	if err != nil {
		return nil, err
	}
	pids := make(map[string]int32, len(snap))
	for n, u := range snap {
		pids[n] = u.pid
	}
	h.replace(ctx, snap)
	return pids, nil
}

// connectBus opens a private system-bus connection (DBUS_SYSTEM_BUS_ADDRESS
// honoured), bounding the handshake by connectTimeout.
func connectBus(ctx context.Context, sig *signalQueue) (*dbus.Conn, error) {
	conn, err := dbus.SystemBusPrivate(dbus.WithContext(ctx), dbus.WithSignalHandler(sig))
	if err != nil {
		return nil, unreachable(err)
	}
	done := make(chan error, 1)
	go func() {
		err := conn.Auth(nil)
		if err == nil {
			err = conn.Hello()
		}
		done <- err
	}()
	select {
	case err = <-done:
	case <-time.After(connectTimeout):
		err = fmt.Errorf("no answer within %s", connectTimeout)
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		_ = conn.Close()
		return nil, unreachable(err)
	}
	return conn, nil
}

// unitRow is one ListUnitsByPatterns row.
type unitRow struct {
	Name, Description, LoadState, ActiveState, SubState, Followed string
	Path                                                          dbus.ObjectPath
	JobID                                                         uint32
	JobType                                                       string
	JobPath                                                       dbus.ObjectPath
}

// listUnits snapshots the loaded services and the installed ones. Signals
// queued before the listing's reply describe states the listing already
// holds, so they are dropped (godbus delivers signals and replies in bus order).
func listUnits(ctx context.Context, conn *dbus.Conn, sig *signalQueue) (map[string]unitState, error) {
	var rows []unitRow
	err := conn.Object(systemdDest, systemdPath).CallWithContext(ctx,
		"org.freedesktop.systemd1.Manager.ListUnitsByPatterns", 0, []string{}, []string{"*" + serviceSuffix}).Store(&rows)
	if err != nil {
		return nil, mapErr(ctx, nil, err, "")
	}
	sig.take()
	snap := make(map[string]unitState, len(rows))
	for _, r := range rows {
		if isTemplate(r.Name) || missing(r.LoadState, r.ActiveState) {
			continue
		}
		u := unitState{state: stateOf(r.ActiveState), native: nativeState(r.ActiveState, r.SubState)}
		if u.state != StateStopped && u.state != StateFailed {
			var v dbus.Variant
			// A unit gone meanwhile keeps pid 0; its signals will follow.
			if conn.Object(systemdDest, r.Path).CallWithContext(ctx, "org.freedesktop.DBus.Properties.Get", 0,
				serviceIface, "MainPID").Store(&v) == nil {
				pid, _ := v.Value().(uint32)
				u.pid = int32(pid)
			}
		}
		snap[r.Name] = u
	}
	// Installed services systemd has not loaded are stopped, as in List.
	var files []struct {
		Path  string
		State string
	}
	err = conn.Object(systemdDest, systemdPath).CallWithContext(ctx,
		"org.freedesktop.systemd1.Manager.ListUnitFilesByPatterns", 0, []string{}, []string{"*" + serviceSuffix}).Store(&files)
	if err != nil {
		return nil, mapErr(ctx, nil, err, "")
	}
	for _, f := range files {
		name := path.Base(f.Path)
		if _, ok := snap[name]; !ok && !isTemplate(name) && f.State != "alias" {
			snap[name] = unitState{state: StateStopped, native: "inactive/dead"}
		}
	}
	return snap, ctx.Err()
}

// applySignal handles one PropertiesChanged. systemd sends the Service
// interface's (MainPID) before the Unit interface's (ActiveState) for the
// same transition, so the pid is remembered and attached to the state change.
func applySignal(ctx context.Context, h *hub, s *dbus.Signal, pids map[string]int32) {
	name, ok := unitFromPath(s.Path)
	if !ok || !strings.HasSuffix(name, serviceSuffix) || isTemplate(name) || len(s.Body) < 2 {
		return
	}
	iface, _ := s.Body[0].(string)
	changed, _ := s.Body[1].(map[string]dbus.Variant)
	switch iface {
	case serviceIface:
		if v, ok := changed["MainPID"]; ok {
			pid, _ := v.Value().(uint32)
			pids[name] = int32(pid)
		}
	case unitIface:
		v, ok := changed["ActiveState"]
		if !ok {
			return
		}
		active, _ := v.Value().(string)
		sub, _ := changed["SubState"].Value().(string)
		u := unitState{state: stateOf(active), native: nativeState(active, sub), pid: pids[name]}
		if u.state == StateStopped || u.state == StateFailed {
			u.pid = 0
		}
		h.update(ctx, name, u)
	}
}

// unitFromPath decodes systemd's object path escaping ("_2d" is '-').
func unitFromPath(p dbus.ObjectPath) (string, bool) {
	esc, ok := strings.CutPrefix(string(p), unitPathPrefix)
	if !ok || esc == "" {
		return "", false
	}
	var b strings.Builder
	for i := 0; i < len(esc); i++ {
		if esc[i] == '_' && i+2 < len(esc) {
			if c, err := strconv.ParseUint(esc[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(c))
				i += 2
				continue
			}
		}
		b.WriteByte(esc[i])
	}
	return b.String(), true
}
