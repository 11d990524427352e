package service

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	sdbus "github.com/coreos/go-systemd/v22/dbus"
	"github.com/godbus/dbus/v5"

	"github.com/remotectl/remotectl/internal/errdefs"
)

// connectTimeout bounds dialing, authenticating and pinging systemd, so a bus
// socket whose peer hangs cannot pin a request that carries no deadline.
const connectTimeout = 5 * time.Second

// systemdManager implements Manager over systemd's D-Bus API (go-systemd).
// It connects on first use and reconnects after the connection is lost, so
// ctld starts and keeps serving on hosts where systemd comes and goes.
type systemdManager struct {
	// sem is a one-slot lock around the fields below; unlike a sync.Mutex
	// waiting for it honours the caller's context.
	sem    chan struct{}
	conn   *sdbus.Conn
	cancel context.CancelFunc // ends conn's lifetime context
	closed bool
}

// NewManager returns the systemd backend. It does not connect: Status and
// every method connect lazily and report errdefs.ErrUnavailable while systemd
// is not reachable on the D-Bus system bus (DBUS_SYSTEM_BUS_ADDRESS is
// honoured).
func NewManager() Manager {
	return &systemdManager{sem: make(chan struct{}, 1)}
}

func (m *systemdManager) lock(ctx context.Context) error {
	select {
	case m.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctxErr(ctx, "waiting for the systemd connection")
	}
}

func (m *systemdManager) unlock() { <-m.sem }

// connection returns a live connection, dialing when there is none yet or the
// previous one is gone (systemd or dbus-daemon restarted).
func (m *systemdManager) connection(ctx context.Context) (*sdbus.Conn, error) {
	if err := m.lock(ctx); err != nil {
		return nil, err
	}
	defer m.unlock()
	if m.closed {
		return nil, fmt.Errorf("%w: the systemd service manager is closed", errdefs.ErrUnavailable)
	}
	if m.conn != nil && m.conn.Connected() {
		return m.conn, nil
	}
	m.dropLocked()
	c, cancel, err := dial(ctx)
	if err != nil {
		return nil, err
	}
	m.conn, m.cancel = c, cancel
	return c, nil
}

func (m *systemdManager) dropLocked() {
	if m.conn != nil {
		m.conn.Close()
		m.cancel()
		m.conn, m.cancel = nil, nil
	}
}

// dial connects to the system bus and checks that systemd answers on it (a
// bus without systemd, as in many containers, is as useless as no bus).
// go-systemd ties the connection's lifetime to the context it is given, so it
// gets one that lives until Close; ctx only bounds how long we wait.
func dial(ctx context.Context) (*sdbus.Conn, context.CancelFunc, error) {
	ctx, stop := context.WithTimeout(ctx, connectTimeout)
	defer stop()
	life, cancel := context.WithCancel(context.Background())
	type dialed struct {
		c   *sdbus.Conn
		err error
	}
	done := make(chan dialed, 1)
	go func() {
		c, err := sdbus.NewSystemConnectionContext(life)
		if err == nil {
			if _, err = c.SystemStateContext(ctx); err != nil {
				c.Close()
				c = nil
			}
		}
		done <- dialed{c, err}
	}()
	select {
	case d := <-done:
		if d.err != nil {
			cancel()
			return nil, nil, unreachable(d.err)
		}
		return d.c, cancel, nil
	case <-ctx.Done():
		cancel() // closes the half-made connection and so ends the goroutine
		return nil, nil, unreachable(ctx.Err())
	}
}

// busAddress names the bus we dial, for error messages.
func busAddress() string {
	if a := os.Getenv("DBUS_SYSTEM_BUS_ADDRESS"); a != "" {
		return a
	}
	return "unix:path=/run/dbus/system_bus_socket"
}

func unreachable(err error) error {
	return fmt.Errorf("%w: systemd is not reachable on the D-Bus system bus (%s: %w): service RPCs are unavailable on this host",
		errdefs.ErrUnavailable, busAddress(), err)
}

// Status connects if needed and asks systemd for its state: one round-trip.
func (m *systemdManager) Status(ctx context.Context) BackendStatus {
	st := BackendStatus{Kind: "systemd"}
	c, err := m.connection(ctx)
	if err == nil {
		if _, err = c.SystemStateContext(ctx); err != nil {
			err = mapErr(ctx, c, err, "")
		}
	}
	if err != nil {
		st.Reason = strings.TrimPrefix(err.Error(), errdefs.ErrUnavailable.Error()+": ")
		return st
	}
	st.Available = true
	return st
}

// Close drops the connection; later calls return errdefs.ErrUnavailable.
func (m *systemdManager) Close() error {
	_ = m.lock(context.Background())
	defer m.unlock()
	m.closed = true
	m.dropLocked()
	return nil
}

// D-Bus error names systemd and the bus daemon answer with.
const (
	errAccessDenied     = "org.freedesktop.DBus.Error.AccessDenied"
	errInteractiveAuth  = "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired"
	errAuthFailed       = "org.freedesktop.DBus.Error.AuthFailed"
	errInvalidArgs      = "org.freedesktop.DBus.Error.InvalidArgs"
	errServiceUnknown   = "org.freedesktop.DBus.Error.ServiceUnknown"
	errNameHasNoOwner   = "org.freedesktop.DBus.Error.NameHasNoOwner"
	errDisconnected     = "org.freedesktop.DBus.Error.Disconnected"
	errNoReply          = "org.freedesktop.DBus.Error.NoReply"
	errTimeout          = "org.freedesktop.DBus.Error.Timeout"
	errUnknownMethod    = "org.freedesktop.DBus.Error.UnknownMethod"
	errNoSuchUnit       = "org.freedesktop.systemd1.NoSuchUnit"
	errUnitMasked       = "org.freedesktop.systemd1.UnitMasked"
	errJobNotApplicable = "org.freedesktop.systemd1.JobTypeNotApplicable"
	errOnlyByDependency = "org.freedesktop.systemd1.OnlyByDependency"
	errDestructive      = "org.freedesktop.systemd1.TransactionIsDestructive"
	errJobsConflicting  = "org.freedesktop.systemd1.TransactionJobsConflicting"
	errOrderIsCyclic    = "org.freedesktop.systemd1.TransactionOrderIsCyclic"
	errLoadFailed       = "org.freedesktop.systemd1.LoadFailed"
	errBadUnitSetting   = "org.freedesktop.systemd1.BadUnitSetting"
	errUnitInactive     = "org.freedesktop.systemd1.UnitInactive"
	errShuttingDown     = "org.freedesktop.systemd1.ShuttingDown"
)

var dbusErrKinds = map[string]error{
	errAccessDenied:     errdefs.ErrPermissionDenied,
	errInteractiveAuth:  errdefs.ErrPermissionDenied,
	errAuthFailed:       errdefs.ErrPermissionDenied,
	errInvalidArgs:      errdefs.ErrInvalidArgument,
	errNoSuchUnit:       errdefs.ErrNotFound,
	errUnitMasked:       errdefs.ErrFailedPrecondition,
	errJobNotApplicable: errdefs.ErrFailedPrecondition,
	errOnlyByDependency: errdefs.ErrFailedPrecondition,
	errDestructive:      errdefs.ErrFailedPrecondition,
	errJobsConflicting:  errdefs.ErrFailedPrecondition,
	errOrderIsCyclic:    errdefs.ErrFailedPrecondition,
	errLoadFailed:       errdefs.ErrFailedPrecondition,
	errBadUnitSetting:   errdefs.ErrFailedPrecondition,
	errUnitInactive:     errdefs.ErrFailedPrecondition,
	errShuttingDown:     errdefs.ErrUnavailable,
	errServiceUnknown:   errdefs.ErrUnavailable,
	errNameHasNoOwner:   errdefs.ErrUnavailable,
	errDisconnected:     errdefs.ErrUnavailable,
	errNoReply:          errdefs.ErrUnavailable,
	errTimeout:          errdefs.ErrUnavailable,
}

// dbusErrorName returns the D-Bus error name of err, or "".
func dbusErrorName(err error) string {
	var v dbus.Error
	if errors.As(err, &v) {
		return v.Name
	}
	var p *dbus.Error
	if errors.As(err, &p) && p != nil {
		return p.Name
	}
	return ""
}

// mapErr turns the error of a D-Bus call (about unit, when not "") into an
// errdefs error that keeps systemd's own message.
func mapErr(ctx context.Context, c *sdbus.Conn, err error, unit string) error {
	subject := "systemd"
	if unit != "" {
		subject = fmt.Sprintf("unit %q", unit)
	}
	if ctx.Err() != nil {
		return ctxErr(ctx, subject)
	}
	if name := dbusErrorName(err); name != "" {
		kind, ok := dbusErrKinds[name]
		if !ok {
			kind = errdefs.ErrInternal
		}
		return fmt.Errorf("%w: %s: %w (%s)", kind, subject, err, name)
	}
	if errors.Is(err, dbus.ErrClosed) || (c != nil && !c.Connected()) {
		return fmt.Errorf("%w: %s: lost the D-Bus connection to systemd: %w", errdefs.ErrUnavailable, subject, err)
	}
	return fmt.Errorf("%w: %s: %w", errdefs.ErrInternal, subject, err)
}

// ctxErr reports the end of the caller's context.
func ctxErr(ctx context.Context, what string) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%w: %s: %w", errdefs.ErrDeadlineExceeded, what, ctx.Err())
	}
	return fmt.Errorf("%w: %s: %w", errdefs.ErrCanceled, what, ctx.Err())
}
