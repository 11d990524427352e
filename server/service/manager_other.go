//go:build !linux && !windows

package service

import (
	"context"
	"fmt"
	"runtime"

	"github.com/remotectl/remotectl/internal/errdefs"
)

// NewManager returns a Manager that refuses everything: this platform has no
// service backend (Linux has systemd, Windows the SCM).
func NewManager() Manager { return unsupported{} }

type unsupported struct{}

func (unsupported) err() error {
	return fmt.Errorf("%w: service management is not supported on %s", errdefs.ErrNotSupported, runtime.GOOS)
}

func (u unsupported) Status(context.Context) BackendStatus {
	return BackendStatus{Kind: "none", Reason: u.err().Error()}
}

func (u unsupported) List(context.Context, Filter) ([]Service, error) { return nil, u.err() }

func (u unsupported) Get(context.Context, string) (Service, error) { return Service{}, u.err() }

func (u unsupported) Start(context.Context, string, ControlOptions) (Result, error) {
	return Result{}, u.err()
}

func (u unsupported) Stop(context.Context, string, ControlOptions) (Result, error) {
	return Result{}, u.err()
}

func (u unsupported) Restart(context.Context, string, ControlOptions) (Result, error) {
	return Result{}, u.err()
}

func (unsupported) Close() error { return nil }
