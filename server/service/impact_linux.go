package service

import (
	"context"
	"fmt"
	"slices"

	sdbus "github.com/coreos/go-systemd/v22/dbus"

	"github.com/remotectl/remotectl/internal/errdefs"
)

// systemd has no dry run for a job's transaction, so the resolver follows
// the dependency properties the way the transaction builder does
// (src/core/transaction.c, unit-dependency-atom.c):
//   - a start job also starts what the unit Requires=/BindsTo=/Wants=/
//     Upholds=, and stops every unit that Conflicts= with a unit it starts
//     (both directions, ConflictedBy= included);
//   - a stop job propagates to the units that Requires=/Requisite=/BindsTo=/
//     PartOf= the stopped unit (RequiredBy, RequisiteOf, BoundBy, ConsistsOf);
//   - a restart job propagates as try-restart to RequiredBy, BoundBy and
//     ConsistsOf.
//
// Only units that would change count: active units for stops and restarts,
// inactive ones for starts (an active unit's start is a no-op whose
// requirements already hold).
var (
	startPulls     = []string{"Requires", "BindsTo", "Wants", "Upholds"}
	startConflicts = []string{"Conflicts", "ConflictedBy"}
	stopPropagates = []string{"RequiredBy", "RequisiteOf", "BoundBy", "ConsistsOf"}
	restartSpreads = []string{"RequiredBy", "BoundBy", "ConsistsOf"}
	powerProps     = []string{"SuccessAction", "FailureAction", "JobTimeoutAction", "StartLimitAction"}
)

// maxImpactUnits bounds how many units one resolution visits, so a huge
// dependency graph cannot pin the agent; past it the change is refused.
const maxImpactUnits = 4096

var errImpactTooLarge = fmt.Errorf("%w: the change would touch more than %d units; refusing a change whose effect cannot be fully checked",
	errdefs.ErrFailedPrecondition, maxImpactUnits)

// Impact implements ImpactResolver.
func (m *systemdManager) Impact(ctx context.Context, op Op, name string, opts ControlOptions) (Impact, error) {
	unit, err := unitName(name)
	if err != nil {
		return Impact{Op: op, Target: name}, err
	}
	c, err := m.connection(ctx)
	if err != nil {
		return Impact{Op: op, Target: name}, err
	}
	r := &unitGraph{ctx: ctx, c: c, props: map[string]map[string]any{}}
	tp, err := r.unit(unit)
	if err != nil {
		return Impact{Op: op, Target: unit}, err
	}
	if missing(propString(tp, "LoadState"), propString(tp, "ActiveState")) {
		return Impact{Op: op, Target: unit}, notFound(unit)
	}
	target := propString(tp, "Id")
	imp := Impact{Op: op, Target: target, State: stateOf(propString(tp, "ActiveState"))}
	running := r.active(tp)
	switch {
	case op == OpStop && running:
		imp.Stops, err = r.propagate(target, stopPropagates)
	case op == OpRestart && running:
		imp.Restarts, err = r.propagate(target, restartSpreads)
	case op == OpStart && running:
		// A no-op: the backend leaves a running unit alone.
	default: // a start, or the restart of a stopped unit, which starts it
		err = r.start(target, &imp)
	}
	if err != nil {
		return imp, err
	}
	for _, u := range append([]string{target}, imp.Starts...) {
		p, err := r.unit(u)
		if err != nil {
			return imp, err
		}
		for _, k := range powerProps {
			if v := propString(p, k); v != "" && v != "none" {
				imp.PowerActions = append(imp.PowerActions, u+": "+k+"="+v)
			}
		}
	}
	return imp, nil
}

// unitGraph reads unit properties once each, bounded by maxImpactUnits.
type unitGraph struct {
	ctx   context.Context
	c     *sdbus.Conn
	props map[string]map[string]any
}

func (g *unitGraph) unit(name string) (map[string]any, error) {
	if p, ok := g.props[name]; ok {
		return p, nil
	}
	if len(g.props) >= maxImpactUnits {
		return nil, errImpactTooLarge
	}
	p, err := g.c.GetUnitPropertiesContext(g.ctx, name)
	if err != nil {
		return nil, mapErr(g.ctx, g.c, err, name)
	}
	g.props[name] = p
	return p, nil
}

func (g *unitGraph) active(p map[string]any) bool {
	switch propString(p, "ActiveState") {
	case "active", "reloading", "activating", "deactivating", "refreshing":
		return true
	}
	return false
}

// deps calls fn with each unit named by p's properties via, and its
// properties, skipping those skip reports true for (skip runs first and may
// mark the unit seen).
func (g *unitGraph) deps(p map[string]any, via []string, skip func(string) bool, fn func(d string, dp map[string]any) error) error {
	for _, k := range via {
		for _, d := range propStrings(p, k) {
			if skip(d) {
				continue
			}
			dp, err := g.unit(d)
			if err != nil {
				return err
			}
			if err := fn(d, dp); err != nil {
				return err
			}
		}
	}
	return nil
}

// unseen returns a skip function for deps that skips the units in seen and
// adds the others to it.
func unseen(seen map[string]bool) func(string) bool {
	return func(d string) bool {
		if seen[d] {
			return true
		}
		seen[d] = true
		return false
	}
}

// propagate returns the active units reached from root over the given
// reverse-dependency properties, transitively, root excluded.
func (g *unitGraph) propagate(root string, via []string) ([]string, error) {
	var out []string
	seen := map[string]bool{root: true}
	queue := []string{root}
	for len(queue) > 0 {
		p, err := g.unit(queue[0])
		if err != nil {
			return out, err
		}
		queue = queue[1:]
		err = g.deps(p, via, unseen(seen), func(d string, dp map[string]any) error {
			if g.active(dp) {
				out = append(out, d)
				queue = append(queue, d)
			}
			return nil
		})
		if err != nil {
			return out, err
		}
	}
	slices.Sort(out)
	return out, nil
}

// start fills imp with what a start job on root adds to its transaction:
// the inactive units it pulls in and the active units their conflicts stop
// (with what those stops propagate to).
func (g *unitGraph) start(root string, imp *Impact) error {
	seen := map[string]bool{root: true}
	queue := []string{root}
	stops := map[string]bool{}
	stopped := func(d string) bool { return stops[d] || d == root }
	for len(queue) > 0 {
		u := queue[0]
		queue = queue[1:]
		p, err := g.unit(u)
		if err != nil {
			return err
		}
		err = g.deps(p, startConflicts, stopped, func(d string, dp map[string]any) error {
			if !g.active(dp) {
				return nil
			}
			stops[d] = true
			more, err := g.propagate(d, stopPropagates)
			if err != nil {
				return err
			}
			for _, s := range more {
				stops[s] = true
			}
			return nil
		})
		if err != nil {
			return err
		}
		err = g.deps(p, startPulls, unseen(seen), func(d string, dp map[string]any) error {
			if !g.active(dp) && !missing(propString(dp, "LoadState"), propString(dp, "ActiveState")) {
				imp.Starts = append(imp.Starts, d)
				queue = append(queue, d)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	for s := range stops {
		if !slices.Contains(imp.Starts, s) {
			imp.Stops = append(imp.Stops, s)
		}
	}
	slices.Sort(imp.Stops)
	slices.Sort(imp.Starts)
	return nil
}
