//go:build linux || windows

package service

import "context"

// startsService: the start types whose Now starts the service.
func startsService(t StartType) bool {
	return t == StartTypeAutomatic || t == StartTypeAutomaticDelayed
}

// applyNow runs the start or stop of SetStartType's Now and folds it into r.
func applyNow(ctx context.Context, m Manager, name string, t StartType, opts StartTypeOptions, r *StartTypeResult) error {
	if !opts.Now {
		return nil
	}
	op := m.Stop
	if startsService(t) {
		op = m.Start
	}
	res, err := op(ctx, name, ControlOptions{Timeout: opts.Timeout})
	if err != nil {
		return err
	}
	r.Service, r.Changed = res.Service, r.Changed || res.Changed
	return nil
}
