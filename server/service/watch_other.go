//go:build !linux && !windows

package service

import (
	"context"
	"fmt"
	"runtime"

	"github.com/remotectl/remotectl/internal/errdefs"
)

// NewWatcher returns a Watcher that refuses: this platform has no service backend.
func NewWatcher() Watcher { return unsupportedWatcher{} }

type unsupportedWatcher struct{}

func (unsupportedWatcher) Watch(context.Context, WatchOptions) (Subscription, error) {
	return nil, fmt.Errorf("%w: service watching is not supported on %s", errdefs.ErrNotSupported, runtime.GOOS)
}

func (unsupportedWatcher) Close() error { return nil }
