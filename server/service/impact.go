package service

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/remotectl/remotectl/internal/errdefs"
)

// Op names a state change.
type Op string

// The changes a Manager makes.
const (
	OpStart   Op = "start"
	OpStop    Op = "stop"
	OpRestart Op = "restart"
)

// Impact is the whole effect a change would have, resolved before it is
// made so authorization can judge every unit it touches, not only the one
// named: a systemd start job also stops what conflicts with the units it
// starts, a stop propagates to the units that Requires=/BindsTo=/PartOf=
// the target, and the Windows SCM stops running dependents first.
type Impact struct {
	Op Op
	// Target is the backend's canonical name of the service asked for.
	Target string
	// State is the target's state before the change.
	State State
	// Stops are the other running services the change would stop.
	Stops []string
	// Restarts are the other running services the change would restart.
	Restarts []string
	// Starts are the other services the change would start (dependencies).
	Starts []string
	// PowerActions name the units among the target and Starts whose start
	// (or failure) asks the service manager to power off, reboot, halt or
	// kexec the host, as "unit: SuccessAction=poweroff-force".
	PowerActions []string
}

// Touched lists every service the change acts on: the target first.
func (i Impact) Touched() []string {
	out := []string{i.Target}
	for _, l := range [][]string{i.Stops, i.Restarts, i.Starts} {
		for _, n := range l {
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	return out
}

// SideEffects describes what the change does besides the target, for the
// audit trail and error messages; "" when nothing.
func (i Impact) SideEffects() string {
	var parts []string
	for _, p := range []struct {
		verb  string
		names []string
	}{{"stops", i.Stops}, {"restarts", i.Restarts}, {"starts", i.Starts}} {
		if len(p.names) > 0 {
			parts = append(parts, p.verb+" "+strings.Join(p.names, ", "))
		}
	}
	return strings.Join(parts, "; ")
}

// CheckDependents enforces ControlOptions.StopDependents on every backend:
// without it, a stop or restart that would also stop or restart other
// running services is refused (errdefs.ErrFailedPrecondition naming them),
// as the Windows SCM refuses; systemd would otherwise take them down silently.
func (i Impact) CheckDependents(opts ControlOptions) error {
	if opts.StopDependents || i.Op == OpStart {
		return nil
	}
	deps := append(slices.Clone(i.Stops), i.Restarts...)
	if len(deps) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s %s would also %s these running services that depend on it: %s; stop them first or ask for the dependents too (ctl svc %s --with-dependents)",
		errdefs.ErrFailedPrecondition, i.Op, i.Target, i.Op, strings.Join(deps, ", "), i.Op)
}

// ImpactResolver is implemented by backends that can resolve a change's
// whole effect (systemd, the Windows SCM).
type ImpactResolver interface {
	Impact(ctx context.Context, op Op, name string, opts ControlOptions) (Impact, error)
}

// ResolveImpact asks m for the effect of a change. A backend that cannot
// tell is asked for the target only (Get), so the rules still see its
// canonical name.
func ResolveImpact(ctx context.Context, m Manager, op Op, name string, opts ControlOptions) (Impact, error) {
	if r, ok := m.(ImpactResolver); ok {
		return r.Impact(ctx, op, name, opts)
	}
	s, err := m.Get(ctx, name)
	if err != nil {
		return Impact{Op: op, Target: name}, err
	}
	return Impact{Op: op, Target: s.Name, State: s.State}, nil
}

// LookupFailureIsBenign reports whether a failed resolution may still let
// the change through to the backend, which will answer the same error
// itself: the name does not exist or is malformed. Any other failure
// (backend down, timeout, a graph too large) must deny, since the rules
// could not see what the change would touch.
func LookupFailureIsBenign(err error) bool {
	return errors.Is(err, errdefs.ErrNotFound) || errors.Is(err, errdefs.ErrInvalidArgument)
}
