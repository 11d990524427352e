package service

import (
	"context"
	"fmt"
	"time"

	sdbus "github.com/coreos/go-systemd/v22/dbus"

	"github.com/remotectl/remotectl/internal/errdefs"
)

// pollInterval paces the ActiveState reads after a job ends and the checks
// that the connection is still alive while a job runs.
const pollInterval = 100 * time.Millisecond

// stateQueryTimeout bounds the state read that explains a timeout.
const stateQueryTimeout = 2 * time.Second

// action is one of Start, Stop, Restart.
type action struct {
	verb    string // for messages
	target  string // the ActiveState waited for, for messages
	enqueue func(c *sdbus.Conn, ctx context.Context, unit, mode string, ch chan<- string) (int, error)
	// noop: already in the target state, nothing to do (nil: always act).
	noop func(activeState string) bool
	// reached: the ActiveState after a successful job that ends the wait.
	reached func(activeState string) bool
}

var (
	startAction = action{
		verb: "start", target: "active",
		enqueue: (*sdbus.Conn).StartUnitContext,
		noop:    func(a string) bool { return a == "active" || a == "reloading" },
		reached: startReached,
	}
	stopAction = action{
		verb: "stop", target: "inactive",
		enqueue: (*sdbus.Conn).StopUnitContext,
		noop:    func(a string) bool { return a == "inactive" || a == "failed" },
		reached: func(a string) bool { return a == "inactive" || a == "failed" },
	}
	restartAction = action{
		verb: "restart", target: "active",
		enqueue: (*sdbus.Conn).RestartUnitContext,
		reached: startReached,
	}
)

// startReached accepts "inactive" too: after a successful start job that is
// where a Type=oneshot service without RemainAfterExit= ends, and what
// systemctl start reports as success.
func startReached(a string) bool { return a == "active" || a == "reloading" || a == "inactive" }

// Start starts a service; a running one is left alone (Changed=false).
func (m *systemdManager) Start(ctx context.Context, name string, opts ControlOptions) (Result, error) {
	return m.control(ctx, name, opts, startAction)
}

// Stop stops a service; an inactive or failed one is left alone (Changed=false).
func (m *systemdManager) Stop(ctx context.Context, name string, opts ControlOptions) (Result, error) {
	return m.control(ctx, name, opts, stopAction)
}

// Restart stops and starts a service, or starts it when it is not running.
func (m *systemdManager) Restart(ctx context.Context, name string, opts ControlOptions) (Result, error) {
	return m.control(ctx, name, opts, restartAction)
}

// control enqueues a job in "replace" mode and waits, within
// EffectiveTimeout(opts.Timeout) and ctx, for its result and then for the unit's
// ActiveState. On timeout the job is left to systemd: cancelling it could
// leave the unit half-started, and the operator can stop it explicitly.
func (m *systemdManager) control(ctx context.Context, name string, opts ControlOptions, a action) (Result, error) {
	unit, err := unitName(name)
	if err != nil {
		return Result{}, err
	}
	if err := opts.Validate(); err != nil {
		return Result{}, err
	}
	c, err := m.connection(ctx)
	if err != nil {
		return Result{}, err
	}
	us, err := status(ctx, c, unit)
	if err != nil {
		return Result{}, err
	}
	prev := stateOf(us.ActiveState)
	if a.noop != nil && a.noop(us.ActiveState) {
		s, err := get(ctx, c, unit)
		return Result{Service: s, PreviousState: prev}, err
	}

	timeout := EffectiveTimeout(opts.Timeout)
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// Buffered: go-systemd's signal dispatcher must never block on us, even
	// after we gave up waiting.
	ch := make(chan string, 1)
	if _, err := a.enqueue(c, wctx, unit, "replace", ch); err != nil {
		if wctx.Err() != nil && ctx.Err() == nil {
			return Result{}, timedOut(ctx, c, unit, a, timeout)
		}
		return Result{}, mapErr(ctx, c, fmt.Errorf("%s: %w", a.verb, err), unit)
	}
	if err := wait(ctx, wctx, c, unit, a, timeout, ch); err != nil {
		return Result{PreviousState: prev}, err
	}
	s, err := get(ctx, c, unit)
	return Result{Service: s, PreviousState: prev, Changed: true}, err
}

// wait waits for the job's result, then polls the unit until its ActiveState
// is reached. ctx is the caller's, wctx adds our timeout to it.
func wait(ctx, wctx context.Context, c *sdbus.Conn, unit string, a action, timeout time.Duration, ch <-chan string) error {
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	expired := func() error {
		if ctx.Err() != nil {
			return ctxErr(ctx, fmt.Sprintf("%s of unit %q", a.verb, unit))
		}
		return timedOut(ctx, c, unit, a, timeout)
	}

	var result string
	for result == "" {
		select {
		case result = <-ch:
		case <-tick.C:
			if !c.Connected() {
				return fmt.Errorf("%w: unit %q: lost the D-Bus connection to systemd while waiting for the %s job",
					errdefs.ErrUnavailable, unit, a.verb)
			}
		case <-wctx.Done():
			return expired()
		}
	}
	switch result {
	case "done", "skipped":
	case "timeout":
		return fmt.Errorf("%w: unit %q: systemd's own timeout for the %s job expired (%s)",
			errdefs.ErrDeadlineExceeded, unit, a.verb, describe(ctx, c, unit))
	case "dependency":
		return fmt.Errorf("%w: unit %q: %s job failed because a dependency failed (%s)",
			errdefs.ErrFailedPrecondition, unit, a.verb, describe(ctx, c, unit))
	default: // failed, canceled, invalid
		return fmt.Errorf("%w: unit %q: %s job %s (%s)",
			errdefs.ErrFailedPrecondition, unit, a.verb, result, describe(ctx, c, unit))
	}

	for {
		us, err := status(wctx, c, unit)
		if err != nil {
			if wctx.Err() != nil {
				return expired()
			}
			return err
		}
		if us.ActiveState == "failed" && a.target == "active" {
			return fmt.Errorf("%w: unit %q: %s job finished but the unit failed (%s)",
				errdefs.ErrFailedPrecondition, unit, a.verb, describe(ctx, c, unit))
		}
		if a.reached(us.ActiveState) {
			return nil
		}
		select {
		case <-tick.C:
		case <-wctx.Done():
			return expired()
		}
	}
}

// status reads one unit's load and active state in one round-trip.
// ListUnitsByNames answers for units that are not loaded, and with
// LoadState "not-found" for unknown ones, which become errdefs.ErrNotFound.
func status(ctx context.Context, c *sdbus.Conn, unit string) (sdbus.UnitStatus, error) {
	l, err := c.ListUnitsByNamesContext(ctx, []string{unit})
	if err != nil {
		return sdbus.UnitStatus{}, mapErr(ctx, c, err, unit)
	}
	if len(l) != 1 {
		return sdbus.UnitStatus{}, fmt.Errorf("%w: unit %q: systemd returned %d statuses for one name", errdefs.ErrInternal, unit, len(l))
	}
	if missing(l[0].LoadState, l[0].ActiveState) {
		return sdbus.UnitStatus{}, notFound(unit)
	}
	return l[0], nil
}

// describe says where a unit stands, for error messages: "failed/failed,
// result exit-code". Best effort, bounded by stateQueryTimeout.
func describe(ctx context.Context, c *sdbus.Conn, unit string) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stateQueryTimeout)
	defer cancel()
	us, err := status(ctx, c, unit)
	if err != nil {
		return "state unknown: " + err.Error()
	}
	d := "it is " + nativeState(us.ActiveState, us.SubState)
	if p, err := c.GetServicePropertyContext(ctx, unit, "Result"); err == nil {
		if r, _ := p.Value.Value().(string); r != "" && r != "success" {
			d += ", result " + r
		}
	}
	return d
}

func timedOut(ctx context.Context, c *sdbus.Conn, unit string, a action, timeout time.Duration) error {
	return fmt.Errorf("%w: unit %q did not become %s within %v: %s; the %s job continues in systemd",
		errdefs.ErrDeadlineExceeded, unit, a.target, timeout, describe(ctx, c, unit), a.verb)
}
