package metrics

import (
	"context"

	"github.com/remotectl/remotectl/server/process"
	"github.com/remotectl/remotectl/server/service"
)

// Lister wraps a process lister so each call's latency is recorded.
func (m *Metrics) Lister(l process.Lister) process.Lister { return &timedLister{Lister: l, m: m} }

// Services wraps a service manager so each call's latency is recorded.
func (m *Metrics) Services(s service.Manager) service.Manager { return &timedManager{Manager: s, m: m} }

type timedLister struct {
	process.Lister
	m *Metrics
}

func (t *timedLister) List(ctx context.Context, opts process.ListOptions) (ps []process.Process, err error) {
	err = t.m.observe("processes", "list", func() error { ps, err = t.Lister.List(ctx, opts); return err })
	return ps, err
}

func (t *timedLister) Count(ctx context.Context) (n int, err error) {
	err = t.m.observe("processes", "count", func() error { n, err = t.Lister.Count(ctx); return err })
	return n, err
}

// timedManager embeds the manager so methods added to the interface later
// pass through (untimed) instead of breaking the build.
type timedManager struct {
	service.Manager
	m *Metrics
}

func (t *timedManager) Status(ctx context.Context) (st service.BackendStatus) {
	_ = t.m.observe("services", "status", func() error { st = t.Manager.Status(ctx); return nil })
	return st
}

func (t *timedManager) List(ctx context.Context, f service.Filter) (ss []service.Service, err error) {
	err = t.m.observe("services", "list", func() error { ss, err = t.Manager.List(ctx, f); return err })
	return ss, err
}

func (t *timedManager) Get(ctx context.Context, name string) (s service.Service, err error) {
	err = t.m.observe("services", "get", func() error { s, err = t.Manager.Get(ctx, name); return err })
	return s, err
}

func (t *timedManager) control(op string, call func() (service.Result, error)) (r service.Result, err error) {
	err = t.m.observe("services", op, func() error { r, err = call(); return err })
	return r, err
}

func (t *timedManager) Start(ctx context.Context, name string, o service.ControlOptions) (service.Result, error) {
	return t.control("start", func() (service.Result, error) { return t.Manager.Start(ctx, name, o) })
}

func (t *timedManager) Stop(ctx context.Context, name string, o service.ControlOptions) (service.Result, error) {
	return t.control("stop", func() (service.Result, error) { return t.Manager.Stop(ctx, name, o) })
}

func (t *timedManager) Restart(ctx context.Context, name string, o service.ControlOptions) (service.Result, error) {
	return t.control("restart", func() (service.Result, error) { return t.Manager.Restart(ctx, name, o) })
}
