//go:build linux || windows

package service

import (
	"context"
	"time"
)

// PollInterval is how often the polling watcher (Windows) lists services.
const PollInterval = time.Second

// pollSource lists every service each interval and lets the hub diff the
// snapshots: a state held for less than one interval can go unseen, and
// every reported change carries the time it was noticed.
func pollSource(m Manager, interval time.Duration) source {
	return func(ctx context.Context, h *hub) {
		t := time.NewTicker(interval)
		defer t.Stop()
		ready := false
		for {
			svcs, err := m.List(ctx, Filter{})
			switch {
			case err == nil:
				snap := make(map[string]unitState, len(svcs))
				for _, s := range svcs {
					snap[s.Name] = unitState{state: s.State, native: s.NativeState, pid: s.MainPID}
				}
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
