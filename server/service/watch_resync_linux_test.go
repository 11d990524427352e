package service

import (
	"context"
	"testing"
	"time"

	evhub "github.com/remotectl/remotectl/server/watch/hub"
)

// On the real systemd: a subscriber that stalls while a unit keeps
// changing gets RESYNC and a snapshot of the current state, not a cut-off;
// a subscriber that drops out and resumes by sequence gets exactly the
// changes a continuous one saw meanwhile.
func TestWatchSystemdStalledResyncAndResume(t *testing.T) {
	m := watchHarness(t)
	ensure(t, m, watchUnit, false)
	old := queueLen
	queueLen = 4
	t.Cleanup(func() { queueLen = old })
	w := NewWatcher()
	t.Cleanup(func() { w.Close() })
	ctx, cancel := context.WithCancel(testCtx(t))
	defer cancel()
	f := Filter{NameGlob: watchUnit}
	stalled, steady, resumeAfter := stallAndDrop(ctx, t, w, f)

	var seen []Event
	for range 3 {
		ensure(t, m, watchUnit, true)
		seen = append(seen, until(t, steady, StateRunning)...)
		ensure(t, m, watchUnit, false)
		seen = append(seen, until(t, steady, StateStopped)...)
	}
	if len(seen) <= 4 {
		t.Fatalf("only %d changes: the stalled queue (4) did not overflow", len(seen))
	}
	last := seen[len(seen)-1]

	ev := next(t, stalled)
	if ev.Type != EventResync || ev.Seq != last.Seq {
		t.Fatalf("stalled subscriber: %+v, want RESYNC at seq %d", ev, last.Seq)
	}
	if ev = next(t, stalled); ev.Type != EventExisting || ev.Name != watchUnit || ev.NewState != StateStopped {
		t.Fatalf("stalled subscriber: %+v, want EXISTING %s stopped", ev, watchUnit)
	}
	if ev = next(t, stalled); ev.Type != EventSynced || ev.Seq != last.Seq {
		t.Fatalf("stalled subscriber: %+v, want SYNCED", ev)
	}

	resumed, err := w.Watch(ctx, WatchOptions{Filter: f, StreamOptions: evhub.StreamOptions{ResumeAfter: resumeAfter}})
	if err != nil {
		t.Fatal(err)
	}
	defer resumed.Close()
	for i, want := range seen {
		got := nextWithin(t, resumed, 5*time.Second)
		if got.Type != EventChanged || got.Seq != want.Seq || got.NewState != want.NewState {
			t.Fatalf("resumed change %d: %+v, want %+v", i, got, want)
		}
	}
	t.Logf("%d changes; stalled subscriber resynced at %d; resume replayed all", len(seen), last.Seq)
}
