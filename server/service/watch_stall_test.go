//go:build linux || windows

package service

import (
	"context"
	"testing"
)

// stallAndDrop opens, on w with filter f, a subscriber that will not read
// and a steady one, and notes where a third, closed at once (a dropped
// connection), would resume.
func stallAndDrop(ctx context.Context, t *testing.T, w Watcher, f Filter) (stalled, steady Subscription, resumeAfter uint64) {
	t.Helper()
	var subs [3]Subscription
	for i := range subs {
		s, err := w.Watch(ctx, WatchOptions{Filter: f})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		subs[i] = s
	}
	subs[2].Close()
	return subs[0], subs[1], subs[2].Start()
}
