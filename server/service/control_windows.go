package service

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/mgr"

	"github.com/remotectl/remotectl/internal/errdefs"
)

// Poll bounds: the SCM's guidance is to check a pending service every tenth
// of its wait hint, between one and ten seconds; we poll faster at the low
// end because our callers wait for an answer.
const (
	minPoll = 50 * time.Millisecond
	maxPoll = time.Second
	// hintGrace is how much longer than its wait hint a pending service may
	// go without advancing its checkpoint before it counts as hung.
	hintGrace = 2 * time.Second
)

// Start implements Manager: a running service is left alone (Changed=false).
func (scmManager) Start(ctx context.Context, name string, opts ControlOptions) (Result, error) {
	return control(ctx, name, opts, startAction)
}

// Stop implements Manager: a stopped service is left alone (Changed=false).
// Running dependents make it fail unless opts.StopDependents is set.
func (scmManager) Stop(ctx context.Context, name string, opts ControlOptions) (Result, error) {
	return control(ctx, name, opts, stopAction)
}

// Restart implements Manager: stop (with the dependents when asked, which
// are started again afterwards) and start; a stopped service is just started.
func (scmManager) Restart(ctx context.Context, name string, opts ControlOptions) (Result, error) {
	return control(ctx, name, opts, restartAction)
}

// action is one of Start, Stop, Restart, as on Linux (control_linux.go).
type action struct {
	verb   string // for messages
	access uint32 // what the service handle needs beyond queryAccess
	// run acts on s and waits; changed is false when s already was where
	// the action leads.
	run func(c *controller, s *mgr.Service, stopDependents bool) (changed bool, err error)
}

var (
	startAction = action{
		verb: "start", access: windows.SERVICE_START,
		run: func(c *controller, s *mgr.Service, _ bool) (bool, error) { return c.start(s) },
	}
	stopAction = action{
		verb: "stop", access: windows.SERVICE_STOP,
		run: func(c *controller, s *mgr.Service, deps bool) (bool, error) {
			changed, _, err := c.stop(s, deps)
			return changed, err
		},
	}
	restartAction = action{
		verb: "restart", access: windows.SERVICE_START | windows.SERVICE_STOP,
		run: (*controller).restart,
	}
)

func control(ctx context.Context, name string, opts ControlOptions, a action) (Result, error) {
	if err := validateName(name); err != nil {
		return Result{}, err
	}
	if err := opts.Validate(); err != nil {
		return Result{}, err
	}
	timeout := EffectiveTimeout(opts.Timeout)
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	m, err := connect()
	if err != nil {
		return Result{}, err
	}
	defer disconnect(m)
	s, err := openService(m, name, queryAccess|a.access)
	if err != nil {
		return Result{}, err
	}
	defer s.Close() //nolint:errcheck // a handle we own; nothing to do on failure
	st, err := queryStatus(s)
	if err != nil {
		return Result{}, err
	}
	prev := stateOf(st)
	c := &controller{ctx: ctx, wctx: wctx, timeout: timeout, m: m}
	changed, err := a.run(c, s, opts.StopDependents)
	if err != nil {
		return Result{PreviousState: prev}, err
	}
	svc, err := get(ctx, m, name)
	return Result{Service: svc, PreviousState: prev, Changed: changed}, err
}

// controller carries one request's SCM connection and deadlines: ctx is the
// caller's, wctx adds the request's timeout to it.
type controller struct {
	ctx, wctx context.Context
	timeout   time.Duration
	m         *mgr.Mgr
}

// start starts s unless it runs, and waits for RUNNING.
func (c *controller) start(s *mgr.Service) (bool, error) {
	st, err := queryStatus(s)
	if err != nil {
		return false, err
	}
	switch st.CurrentState {
	case windows.SERVICE_RUNNING:
		return false, nil
	case windows.SERVICE_START_PENDING, windows.SERVICE_CONTINUE_PENDING:
		return false, c.wait(s, windows.SERVICE_RUNNING)
	case windows.SERVICE_STOP_PENDING:
		if err := c.wait(s, windows.SERVICE_STOPPED); err != nil {
			return false, err
		}
	}
	if err := s.Start(); err != nil && !errors.Is(err, windows.ERROR_SERVICE_ALREADY_RUNNING) {
		return false, scmErr("start", s.Name, err)
	}
	return true, c.wait(s, windows.SERVICE_RUNNING)
}

// stop stops s unless it is stopped, and waits for STOPPED. With deps set
// it first stops the running services that depend on s, deepest first, and
// returns them in the order they were stopped.
func (c *controller) stop(s *mgr.Service, deps bool) (changed bool, stopped []string, err error) {
	st, err := queryStatus(s)
	if err != nil {
		return false, nil, err
	}
	switch st.CurrentState {
	case windows.SERVICE_STOPPED:
		return false, nil, nil
	case windows.SERVICE_STOP_PENDING:
		return false, nil, c.wait(s, windows.SERVICE_STOPPED)
	}
	running, err := c.runningDependents(s.Name)
	if err != nil {
		return false, nil, err
	}
	if len(running) > 0 && !deps {
		return false, nil, fmt.Errorf("%w: stop %s: these running services depend on it: %s; stop them first or ask to stop the dependents too (ctl svc stop --with-dependents)",
			errdefs.ErrFailedPrecondition, s.Name, strings.Join(running, ", "))
	}
	for _, d := range running {
		ds, err := openService(c.m, d, queryAccess|windows.SERVICE_STOP)
		if err != nil {
			return false, stopped, fmt.Errorf("stop dependent service: %w", err)
		}
		_, err = c.stopOne(ds)
		_ = ds.Close()
		if err != nil {
			return false, stopped, fmt.Errorf("stop dependent service: %w", err)
		}
		stopped = append(stopped, d)
	}
	changed, err = c.stopOne(s)
	return changed, stopped, err
}

func (c *controller) stopOne(s *mgr.Service) (bool, error) {
	if _, err := s.Control(svc.Stop); err != nil {
		switch {
		case errors.Is(err, windows.ERROR_SERVICE_NOT_ACTIVE):
			return false, nil // stopped meanwhile
		case errors.Is(err, windows.ERROR_DEPENDENT_SERVICES_RUNNING):
			return false, fmt.Errorf("%w (a dependent service started meanwhile)", scmErr("stop", s.Name, err))
		}
		return false, scmErr("stop", s.Name, err)
	}
	return true, c.wait(s, windows.SERVICE_STOPPED)
}

// restart stops s (and its dependents when asked), starts it, then starts
// again the dependents it stopped, in reverse order.
func (c *controller) restart(s *mgr.Service, deps bool) (bool, error) {
	_, stopped, err := c.stop(s, deps)
	if err != nil {
		return false, err
	}
	if _, err := c.start(s); err != nil {
		return true, err
	}
	for i := len(stopped) - 1; i >= 0; i-- {
		ds, err := openService(c.m, stopped[i], queryAccess|windows.SERVICE_START)
		if err != nil {
			return true, fmt.Errorf("restart dependent service: %w", err)
		}
		_, err = c.start(ds)
		_ = ds.Close()
		if err != nil {
			return true, fmt.Errorf("restart dependent service: %w", err)
		}
	}
	return true, nil
}

// runningDependents lists the services that depend on name, directly or
// not, and are not stopped, in the order they must be stopped.
func (c *controller) runningDependents(name string) ([]string, error) {
	all, g, err := readAll(c.ctx, c.m)
	if err != nil {
		return nil, err
	}
	active := make(map[string]bool, len(all))
	for _, s := range all {
		active[strings.ToLower(s.Name)] = s.State != StateStopped && s.State != StateFailed
	}
	return g.StopOrder(name, func(n string) bool { return active[strings.ToLower(n)] }), nil
}

// wait polls s until it reaches target, paced by its wait hint. It fails
// when the service ends up stopped while starting, when its checkpoint
// stalls past its wait hint, or when the request's timeout expires.
func (c *controller) wait(s *mgr.Service, target uint32) error {
	verb := map[uint32]string{windows.SERVICE_RUNNING: "start", windows.SERVICE_STOPPED: "stop"}[target]
	var lastCheckpoint uint32
	progress := time.Now()
	for {
		st, err := queryStatus(s)
		if err != nil {
			return err
		}
		if st.CurrentState == target {
			return nil
		}
		if target == windows.SERVICE_RUNNING && st.CurrentState == windows.SERVICE_STOPPED {
			return fmt.Errorf("%w: start %s: the service stopped while starting: %w",
				errdefs.ErrFailedPrecondition, s.Name, exitError(st))
		}
		if st.CheckPoint != lastCheckpoint {
			lastCheckpoint, progress = st.CheckPoint, time.Now()
		}
		hint := time.Duration(st.WaitHint) * time.Millisecond
		if hint > 0 && time.Since(progress) > hint+hintGrace {
			return fmt.Errorf("%w: %s %s: no progress for %v, past its wait hint of %v (state %s)",
				errdefs.ErrDeadlineExceeded, verb, s.Name, time.Since(progress).Round(time.Millisecond), hint, nativeStates[st.CurrentState])
		}
		poll := min(max(hint/10, minPoll), maxPoll)
		t := time.NewTimer(poll)
		select {
		case <-t.C:
		case <-c.wctx.Done():
			t.Stop()
			if c.ctx.Err() != nil {
				return ctxErr(verb+" "+s.Name, c.ctx.Err())
			}
			return fmt.Errorf("%w: %s %s: not %s within %v (state %s)", errdefs.ErrDeadlineExceeded,
				verb, s.Name, nativeStates[target], c.timeout, nativeStates[st.CurrentState])
		}
	}
}

// exitError explains a stopped service's exit codes.
func exitError(st *windows.SERVICE_STATUS_PROCESS) error {
	if st.Win32ExitCode == uint32(windows.ERROR_SERVICE_SPECIFIC_ERROR) {
		return fmt.Errorf("service-specific exit code %d", st.ServiceSpecificExitCode)
	}
	if st.Win32ExitCode == 0 {
		return errors.New("exit code 0")
	}
	return windows.Errno(st.Win32ExitCode)
}
