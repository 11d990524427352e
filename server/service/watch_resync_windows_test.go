package service

import (
	"context"
	"testing"
	"time"

	"golang.org/x/sys/windows/svc/mgr"

	evhub "github.com/remotectl/remotectl/server/watch/hub"
)

// On the real SCM (Wine's under make test-windows): a subscriber that
// stalls gets RESYNC and a snapshot, not a cut-off; one that resumes by
// sequence gets exactly the changes a continuous one saw.
func TestSCMWatchStalledResyncAndResume(t *testing.T) {
	m := newSCM(t)
	const name = "RemotectlWatchResync"
	register(t, name, mgr.Config{})
	old := queueLen
	queueLen = 2
	t.Cleanup(func() { queueLen = old })
	w := NewWatcher()
	t.Cleanup(func() { w.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	f := Filter{NameGlob: name}
	stalled, steady, resumeAfter := stallAndDrop(ctx, t, w, f)

	var seen []Event
	follow := func(want State) {
		t.Helper()
		for {
			ev := nextWithin(t, steady, 30*time.Second)
			seen = append(seen, ev)
			if ev.NewState == want {
				return
			}
		}
	}
	for range 2 {
		if _, err := m.Start(ctx, name, ControlOptions{}); err != nil {
			t.Fatal(err)
		}
		follow(StateRunning)
		if _, err := m.Stop(ctx, name, ControlOptions{}); err != nil {
			t.Fatal(err)
		}
		follow(StateStopped)
	}
	if len(seen) <= 2 {
		t.Fatalf("only %d changes: the stalled queue (2) did not overflow", len(seen))
	}
	last := seen[len(seen)-1]
	for _, want := range []EventType{EventResync, EventExisting, EventSynced} {
		if ev := nextWithin(t, stalled, 30*time.Second); ev.Type != want || ev.Seq != last.Seq {
			t.Fatalf("stalled subscriber: %+v, want %v at seq %d", ev, want, last.Seq)
		}
	}
	resumed, err := w.Watch(ctx, WatchOptions{Filter: f, StreamOptions: evhub.StreamOptions{ResumeAfter: resumeAfter}})
	if err != nil {
		t.Fatal(err)
	}
	defer resumed.Close()
	for i, want := range seen {
		if got := nextWithin(t, resumed, 10*time.Second); got.Seq != want.Seq || got.NewState != want.NewState {
			t.Fatalf("resumed change %d: %+v, want %+v", i, got, want)
		}
	}
}
