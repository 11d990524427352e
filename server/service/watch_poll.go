//go:build linux || windows

package service

import (
	"context"
	"time"
)

// PollInterval is how often the polling watcher (Windows) lists services.
const PollInterval = time.Second

// snapshotFunc reads the state of every service.
type snapshotFunc func(ctx context.Context) (map[string]unitState, error)

// pollSource takes a snapshot each interval and lets the hub diff them: a
// state held for less than one interval can go unseen, and every reported
// change carries the time it was noticed.
func pollSource(snapshot snapshotFunc, interval time.Duration) source {
	return func(ctx context.Context, h *hub) {
		t := time.NewTicker(interval)
		defer t.Stop()
		ready := false
		for {
			snap, err := snapshot(ctx)
			switch {
			case err == nil:
				h.replace(ctx, snap)
				ready = true
			case !ready:
				h.failed(ctx, err)
				return
			}
			// After the first snapshot a failed poll is retried: subscribers
			// keep their streams and the next snapshot reports what changed.
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}
}
