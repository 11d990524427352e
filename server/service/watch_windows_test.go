package service

import (
	"context"
	"errors"
	"testing"
	"time"

	"golang.org/x/sys/windows/svc/mgr"

	evhub "github.com/remotectl/remotectl/server/watch/hub"
)

// TestSCMWatchPolls starts and stops a registered service on the real SCM
// (Wine's under make test-windows) and expects the polling watcher to report
// the chain of states in order, with the main pid while it runs.
func TestSCMWatchPolls(t *testing.T) {
	m := newSCM(t)
	const name = "RemotectlWatch"
	register(t, name, mgr.Config{})
	w := NewWatcher()
	t.Cleanup(func() { w.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sub, err := w.Watch(ctx, WatchOptions{Filter: Filter{NameGlob: name}, StreamOptions: evhub.StreamOptions{IncludeExisting: true}})
	if err != nil {
		t.Fatal(err)
	}
	// The glob also matches the display name register gives the service.
	byDisplay, err := w.Watch(ctx, WatchOptions{Filter: Filter{NameGlob: "remotectl test " + name}, StreamOptions: evhub.StreamOptions{IncludeExisting: true}})
	if err != nil {
		t.Fatal(err)
	}
	if ev := nextWithin(t, byDisplay, 30*time.Second); ev.Type != EventExisting || ev.Name != name {
		t.Fatalf("glob on the display name: want EXISTING %s, got %+v", name, ev)
	}
	next := func() Event {
		t.Helper()
		return nextWithin(t, sub, 30*time.Second)
	}
	if ev := next(); ev.Type != EventExisting || ev.Name != name || ev.NewState != StateStopped {
		t.Fatalf("want EXISTING %s stopped, got %+v", name, ev)
	}
	if ev := next(); ev.Type != EventSynced {
		t.Fatalf("want SYNCED, got %+v", ev)
	}
	prev := StateStopped
	var seq uint64
	follow := func(want State) {
		t.Helper()
		for {
			ev := next()
			if ev.Type != EventChanged || ev.Name != name || ev.OldState != prev || ev.Seq <= seq {
				t.Fatalf("want CHANGED %s from %v after seq %d, got %+v", name, prev, seq, ev)
			}
			t.Logf("CHANGED %s %v -> %v pid %d seq %d", ev.Name, ev.OldState, ev.NewState, ev.MainPID, ev.Seq)
			prev, seq = ev.NewState, ev.Seq
			if ev.NewState == StateRunning && ev.MainPID <= 0 {
				t.Fatalf("running without a main pid: %+v", ev)
			}
			if ev.NewState == want {
				return
			}
		}
	}
	if _, err := m.Start(ctx, name, ControlOptions{}); err != nil {
		t.Fatal(err)
	}
	follow(StateRunning)
	if _, err := m.Stop(ctx, name, ControlOptions{}); err != nil {
		t.Fatal(err)
	}
	follow(StateStopped)
	cancel()
	if _, err := sub.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled watch ended with %v", err)
	}
}
