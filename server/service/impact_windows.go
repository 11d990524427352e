package service

import (
	"context"
	"slices"
	"strings"
)

// Impact implements ImpactResolver. The SCM stops a service's running
// dependents first when asked to (StopDependents), deepest first, and a
// restart starts them again; a start starts the target's dependencies,
// which stops nothing (the SCM has no conflicts).
func (scmManager) Impact(ctx context.Context, op Op, name string, _ ControlOptions) (Impact, error) {
	if err := validateName(name); err != nil {
		return Impact{Op: op, Target: name}, err
	}
	m, err := connect()
	if err != nil {
		return Impact{Op: op, Target: name}, err
	}
	defer disconnect(m)
	all, g, err := readAll(ctx, m)
	if err != nil {
		return Impact{Op: op, Target: name}, err
	}
	i := slices.IndexFunc(all, func(s Service) bool { return strings.EqualFold(s.Name, name) })
	if i < 0 {
		// Not enumerated (a driver, or gone): let Get say what it is.
		s, err := get(ctx, m, name)
		if err != nil {
			return Impact{Op: op, Target: name}, err
		}
		return Impact{Op: op, Target: s.Name, State: s.State}, nil
	}
	imp := Impact{Op: op, Target: all[i].Name, State: all[i].State}
	if op == OpStart {
		return imp, nil
	}
	active := make(map[string]bool, len(all))
	for _, s := range all {
		active[strings.ToLower(s.Name)] = s.State != StateStopped && s.State != StateFailed
	}
	deps := g.StopOrder(imp.Target, func(n string) bool { return active[strings.ToLower(n)] })
	if op == OpStop {
		imp.Stops = deps
	} else {
		imp.Restarts = deps
	}
	return imp, nil
}
