package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/kardianos/service"
	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/eventlog"
	"golang.org/x/sys/windows/svc/mgr"
)

// serviceRunArgs go on the installed service's command line ("ctld run
// --service ..."). svc.IsWindowsService, which kardianos/service relies on,
// decides by looking for a parent named services.exe in session 0; Wine (and
// any SCM whose services.exe is not in session 0) fails that test, so the
// SCM then waits in vain for a service that believes it runs interactively.
// The flag says it outright.
var serviceRunArgs = []string{"--service"}

// Event IDs of ctld's Event Log entries.
const (
	eventStarted = 1
	eventStopped = 2
	eventFailed  = 3
)

// stopWaitHint is what we tell the SCM a stop may take beyond the drain.
const stopWaitHint = 5 * time.Second

// runDaemon runs d: as an SCM service when serviceMode (or x/sys detects
// one), else in the foreground through kardianos/service.
func runDaemon(s service.Service, d *daemon, serviceMode bool) error {
	if !serviceMode {
		if is, err := svc.IsWindowsService(); err != nil || !is {
			return s.Run()
		}
	}
	h := &scmHandler{d: d, s: s}
	if el, err := eventlog.Open(serviceName); err == nil {
		h.events = el
		defer el.Close() //nolint:errcheck // best effort at exit
	} else {
		d.log.Warn().Err(err).Msg("event log unavailable; lifecycle events go to the log only")
	}
	if err := svc.Run(serviceName, h); err != nil {
		return fmt.Errorf("run as a Windows service: %w", err)
	}
	return h.err
}

// scmHandler answers the SCM's control requests for the daemon.
type scmHandler struct {
	d      *daemon
	s      service.Service
	events *eventlog.Log
	err    error
}

func (h *scmHandler) event(id uint32, msg string) {
	if h.events == nil {
		return
	}
	if id == eventFailed {
		_ = h.events.Error(id, msg)
		return
	}
	_ = h.events.Info(id, msg)
}

// Execute implements svc.Handler. A start failure ends the service with a
// service-specific exit code, which the SCM counts as a failure and answers
// with the recovery actions installServiceExtras set.
func (h *scmHandler) Execute(_ []string, req <-chan svc.ChangeRequest, status chan<- svc.Status) (bool, uint32) {
	status <- svc.Status{State: svc.StartPending, WaitHint: 10000}
	if err := h.d.Start(h.s); err != nil {
		h.err = err
		h.event(eventFailed, "ctld failed to start: "+err.Error())
		return true, 1
	}
	h.event(eventStarted, fmt.Sprintf("ctld started, listening on %s", h.d.cfg.Listen))
	status <- svc.Status{State: svc.Running, Accepts: svc.AcceptStop | svc.AcceptShutdown}
	for r := range req {
		switch r.Cmd {
		case svc.Interrogate:
			status <- r.CurrentStatus
		case svc.Stop, svc.Shutdown:
			hint := h.d.cfg.ShutdownTimeout + stopWaitHint
			status <- svc.Status{State: svc.StopPending, WaitHint: uint32(hint.Milliseconds())}
			if err := h.d.Stop(h.s); err != nil {
				h.err = err
				h.event(eventFailed, "ctld stopped with an error: "+err.Error())
				return true, 2
			}
			h.event(eventStopped, "ctld stopped")
			return false, 0
		}
	}
	return false, 0
}

// afterControl completes "ctld install": kardianos/service creates the
// service (automatic start) and its event source; the recovery actions it
// would set allow one action only and are off by default, so set ours: restart
// after 5 s, 10 s and 30 s, counting failures over a day, also when ctld
// exits with an error rather than crashing.
func afterControl(action string) error {
	if action != "install" {
		return nil
	}
	m, err := mgr.Connect()
	if err != nil {
		return fmt.Errorf("recovery actions: %w", err)
	}
	defer m.Disconnect() //nolint:errcheck // best effort at exit
	s, err := m.OpenService(serviceName)
	if err != nil {
		return fmt.Errorf("recovery actions: %w", err)
	}
	defer s.Close() //nolint:errcheck // best effort at exit
	actions := []mgr.RecoveryAction{
		{Type: mgr.ServiceRestart, Delay: 5 * time.Second},
		{Type: mgr.ServiceRestart, Delay: 10 * time.Second},
		{Type: mgr.ServiceRestart, Delay: 30 * time.Second},
	}
	if err := s.SetRecoveryActions(actions, uint32((24 * time.Hour).Seconds())); err != nil {
		return fmt.Errorf("recovery actions: %w", err)
	}
	if err := s.SetRecoveryActionsOnNonCrashFailures(true); err != nil && !errors.Is(err, windows.ERROR_INVALID_LEVEL) {
		return fmt.Errorf("recovery actions on non-crash failures: %w", err)
	}
	return nil
}
