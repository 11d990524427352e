package service

import (
	"context"
	"errors"
	"testing"
	"time"

	evhub "github.com/remotectl/remotectl/server/watch/hub"
)

// watchUnit and otherUnit are the harness's private units for these tests.
const (
	watchUnit = "remotectl-watch.service"
	otherUnit = "remotectl-watch-other.service"
)

func watchHarness(t *testing.T) Manager {
	t.Helper()
	m := harness(t)
	for _, u := range []string{watchUnit, otherUnit} {
		if _, err := m.Get(testCtx(t), u); err != nil {
			t.Skipf("harness lacks %s (%v): restart it with `scripts/systemd-harness.sh down && scripts/systemd-harness.sh up`", u, err)
		}
	}
	return m
}

// next returns the next event or fails after a timeout.
func next(t *testing.T, sub Subscription) Event {
	t.Helper()
	return nextWithin(t, sub, 15*time.Second)
}

// until collects CHANGED events until one reaches want.
func until(t *testing.T, sub Subscription, want State) []Event {
	t.Helper()
	var got []Event
	for {
		ev := next(t, sub)
		if ev.Type != EventChanged {
			t.Fatalf("want CHANGED, got %+v", ev)
		}
		got = append(got, ev)
		if ev.NewState == want {
			return got
		}
	}
}

func TestWatchSystemdStartStop(t *testing.T) {
	m := watchHarness(t)
	ensure(t, m, watchUnit, false)
	w := NewWatcher()
	t.Cleanup(func() { w.Close() })
	ctx, cancel := context.WithCancel(testCtx(t))
	defer cancel()
	sub, err := w.Watch(ctx, WatchOptions{Filter: Filter{NameGlob: "remotectl-watch"}, StreamOptions: evhub.StreamOptions{IncludeExisting: true}})
	if err != nil {
		t.Fatal(err)
	}
	// A second subscriber with another filter must see only its own unit.
	other, err := w.Watch(ctx, WatchOptions{Filter: Filter{NameGlob: otherUnit}})
	if err != nil {
		t.Fatal(err)
	}

	ev := next(t, sub)
	if ev.Type != EventExisting || ev.Name != watchUnit || ev.NewState != StateStopped {
		t.Fatalf("want EXISTING %s stopped, got %+v", watchUnit, ev)
	}
	if ev = next(t, sub); ev.Type != EventSynced {
		t.Fatalf("want SYNCED, got %+v", ev)
	}

	ensure(t, m, otherUnit, true) // must not reach sub
	ensure(t, m, watchUnit, true)
	up := until(t, sub, StateRunning)
	if first := up[0]; first.Name != watchUnit || first.OldState != StateStopped {
		t.Fatalf("start: first change %+v, want %s from stopped", first, watchUnit)
	}
	if last := up[len(up)-1]; last.MainPID <= 0 || last.NativeState != "active/running" {
		t.Fatalf("start: running event lacks the main pid or native state: %+v", last)
	}

	ensure(t, m, watchUnit, false)
	down := until(t, sub, StateStopped)
	if down[0].OldState != StateRunning {
		t.Fatalf("stop: first change %+v, want from running", down[0])
	}
	all := append(up, down...)
	for i, e := range all {
		if e.Name != watchUnit {
			t.Fatalf("filter let %s through: %+v", e.Name, e)
		}
		if i > 0 && (e.Seq <= all[i-1].Seq || e.OldState != all[i-1].NewState) {
			t.Fatalf("events out of order or not chained: %+v after %+v", e, all[i-1])
		}
	}
	if last := all[len(all)-1]; last.MainPID != 0 {
		t.Fatalf("stopped event keeps pid %d", last.MainPID)
	}

	// The other subscriber saw its unit start and nothing of watchUnit.
	o := until(t, other, StateRunning)
	for _, e := range o {
		if e.Name != otherUnit {
			t.Fatalf("other subscriber got %+v", e)
		}
	}
	ensure(t, m, otherUnit, false)
	until(t, other, StateStopped)

	// Cancel ends both streams cleanly.
	cancel()
	for _, s := range []Subscription{sub, other} {
		if _, err := s.Next(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled stream ended with %v", err)
		}
		s.Close()
	}
}

func TestWatchSystemdBadFilter(t *testing.T) {
	w := NewWatcher()
	defer w.Close()
	_, err := w.Watch(context.Background(), WatchOptions{Filter: Filter{NameGlob: "["}})
	if err == nil {
		t.Fatal("bad glob accepted")
	}
	if errors.Is(err, context.Canceled) {
		t.Fatalf("unexpected %v", err)
	}
}

// TestWatchPollerOnSystemd drives the polling source (the Windows watcher's)
// with snapshots from the real systemd Manager: a start is reported within a
// poll or two.
func TestWatchPollerOnSystemd(t *testing.T) {
	m := watchHarness(t)
	ensure(t, m, otherUnit, false)
	list := func(ctx context.Context) (map[string]unitState, error) {
		svcs, err := m.List(ctx, Filter{})
		snap := make(map[string]unitState, len(svcs))
		for _, s := range svcs {
			snap[s.Name] = unitState{state: s.State, native: s.NativeState, pid: s.MainPID}
		}
		return snap, err
	}
	w := newHub(pollSource(list, 200*time.Millisecond), displayName)
	t.Cleanup(func() { w.Close() })
	ctx, cancel := context.WithCancel(testCtx(t))
	defer cancel()
	sub, err := w.Watch(ctx, WatchOptions{Filter: Filter{NameGlob: otherUnit}})
	if err != nil {
		t.Fatal(err)
	}
	ensure(t, m, otherUnit, true)
	up := until(t, sub, StateRunning)
	if e := up[0]; e.Name != otherUnit || e.OldState != StateStopped || up[len(up)-1].MainPID <= 0 {
		t.Fatalf("poller start events %+v", up)
	}
	ensure(t, m, otherUnit, false)
	if down := until(t, sub, StateStopped); down[0].OldState != StateRunning {
		t.Fatalf("poller stop events %+v", down)
	}
}
