package service

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/remotectl/remotectl/internal/errdefs"
	evhub "github.com/remotectl/remotectl/server/watch/hub"
)

// nextWithin returns the next event or fails after d.
func nextWithin(t *testing.T, sub Subscription, d time.Duration) Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	ev, err := sub.Next(ctx)
	if err != nil {
		t.Fatalf("no event within %s: %v", d, err)
	}
	return ev
}

// testHub returns a hub whose source hands itself to the test after
// installing first as the initial snapshot.
func testHub(t *testing.T, first map[string]unitState) (*hub, func() (context.Context, *hub)) {
	t.Helper()
	type fed struct {
		ctx context.Context
		h   *hub
	}
	got := make(chan fed, 1)
	h := newHub(func(ctx context.Context, h *hub) {
		h.replace(ctx, first)
		got <- fed{ctx, h}
		<-ctx.Done()
	}, func(n string) string { return n })
	t.Cleanup(func() { h.Close() })
	return h, func() (context.Context, *hub) {
		select {
		case f := <-got:
			return f.ctx, f.h
		case <-time.After(5 * time.Second):
			t.Fatal("source not started")
		}
		return nil, nil
	}
}

func watchOrFail(t *testing.T, h *hub, opts WatchOptions) Subscription {
	t.Helper()
	s, err := h.Watch(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// A subscriber that stalls is resynced (RESYNC, a snapshot at the last
// change, then live changes), not cut off; a fast one sees every change
// numbered +1; a resume after a seen change replays exactly what followed.
func TestHubSlowSubscriberIsResyncedAndResumeIsExact(t *testing.T) {
	h, src := testHub(t, map[string]unitState{"a": {state: StateStopped}, "b": {state: StateRunning}})
	stalled := watchOrFail(t, h, WatchOptions{Filter: Filter{NameGlob: "a"}})
	fast := watchOrFail(t, h, WatchOptions{})
	sctx, sh := src()
	const n = QueueLen + 50
	var got []Event
	for i := range n {
		st := StateRunning
		if i%2 == 1 {
			st = StateStopped
		}
		sh.update(sctx, "a", unitState{state: st})
		// The fast subscriber keeps up; the stalled one reads nothing.
		got = append(got, nextWithin(t, fast, 5*time.Second))
	}
	if len(got) != n {
		t.Fatalf("fast subscriber got %d events, want %d", len(got), n)
	}
	for i, ev := range got {
		if i > 0 && ev.Seq != got[i-1].Seq+1 {
			t.Fatalf("fast subscriber: event %d has seq %d after %d", i, ev.Seq, got[i-1].Seq)
		}
		if ev.Seq >= 1<<53 {
			t.Fatalf("seq %d is not JSON-safe", ev.Seq)
		}
	}
	last := got[n-1]
	want := []string{
		fmt.Sprintf("RESYNC  #%d", last.Seq),
		fmt.Sprintf("EXISTING a %v #%d", last.NewState, last.Seq),
		fmt.Sprintf("SYNCED  #%d", last.Seq),
	}
	for i, w := range want {
		ev := nextWithin(t, stalled, 5*time.Second)
		if g := fmt.Sprintf("%s %s %s#%d", ev.Type, ev.Name, stateIf(ev), ev.Seq); g != w {
			t.Fatalf("stalled subscriber event %d: %q, want %q", i, g, w)
		}
	}
	sh.update(sctx, "a", unitState{state: StateFailed})
	if ev := nextWithin(t, stalled, 5*time.Second); ev.Type != EventChanged || ev.Seq != last.Seq+1 || ev.NewState != StateFailed {
		t.Fatalf("after resync: %+v", ev)
	}

	// Resume after the tenth change: the rest of them, then live.
	r := watchOrFail(t, h, WatchOptions{StreamOptions: evhub.StreamOptions{ResumeAfter: got[9].Seq, IncludeExisting: true}})
	for i := 10; i < n; i++ {
		if ev := nextWithin(t, r, 5*time.Second); ev.Seq != got[i].Seq || ev.Type != EventChanged {
			t.Fatalf("resumed event %d: %+v, want seq %d", i, ev, got[i].Seq)
		}
	}
	// A number of another run resyncs.
	stale := watchOrFail(t, h, WatchOptions{Filter: Filter{NameGlob: "b"}, StreamOptions: evhub.StreamOptions{ResumeAfter: 12}})
	for _, w := range []EventType{EventResync, EventExisting, EventSynced} {
		if ev := nextWithin(t, stale, 5*time.Second); ev.Type != w {
			t.Fatalf("stale resume: %v, want %v", ev.Type, w)
		}
	}
}

func stateIf(ev Event) string {
	if ev.Type == EventExisting {
		return ev.NewState.String() + " "
	}
	return ""
}

func TestHubFilterAndSnapshotDiff(t *testing.T) {
	h, src := testHub(t, map[string]unitState{"web": {state: StateRunning}, "db": {state: StateRunning}})
	failedOnly := watchOrFail(t, h, WatchOptions{Filter: Filter{States: []State{StateFailed}}, StreamOptions: evhub.StreamOptions{IncludeExisting: true}})
	sctx, sh := src()
	// A snapshot reports differences (in name order, then the services missing
	// from it as stopped: db is #2, which the state filter drops).
	sh.replace(sctx, map[string]unitState{"web": {state: StateFailed, native: "failed/failed"}})
	sh.update(sctx, "web", unitState{state: StateRunning})
	sh.update(sctx, "web", unitState{state: StateRunning}) // no change, no event
	sh.update(sctx, "db", unitState{state: StateRunning})  // stopped -> running, not about failed
	var got []string
	var base uint64
	for range 3 {
		ev := nextWithin(t, failedOnly, 5*time.Second)
		if ev.Type == EventSynced {
			base = ev.Seq
		}
		got = append(got, fmt.Sprintf("%s %s %s>%s #%d", ev.Type, ev.Name, ev.OldState, ev.NewState, ev.Seq-base))
	}
	want := []string{"SYNCED  unknown>unknown #0", "CHANGED web running>failed #1", "CHANGED web failed>running #3"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}

func TestHubSourceFailureFailsWatch(t *testing.T) {
	boom := fmt.Errorf("%w: no bus", errdefs.ErrUnavailable)
	h := newHub(func(ctx context.Context, h *hub) { h.failed(ctx, boom) }, func(n string) string { return n })
	defer h.Close()
	if _, err := h.Watch(context.Background(), WatchOptions{}); !errors.Is(err, errdefs.ErrUnavailable) {
		t.Fatalf("want unavailable, got %v", err)
	}
	if _, err := h.Watch(context.Background(), WatchOptions{Filter: Filter{NameGlob: "["}}); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Fatalf("bad glob: want invalid argument, got %v", err)
	}
}

// TestHubSourceRunsOnlyWhileWatched: the backend subscription (a D-Bus
// connection on systemd) ends with the last subscriber (here with no
// linger) and a new one starts it again, so an unwatched agent holds
// nothing open.
func TestHubSourceRunsOnlyWhileWatched(t *testing.T) {
	old := linger
	linger = -1
	t.Cleanup(func() { linger = old })
	started, stopped := make(chan struct{}, 4), make(chan struct{}, 4)
	h := newHub(func(ctx context.Context, h *hub) {
		started <- struct{}{}
		h.replace(ctx, map[string]unitState{})
		<-ctx.Done()
		stopped <- struct{}{}
	}, func(n string) string { return n })
	defer h.Close()
	wait := func(ch chan struct{}, what string) {
		t.Helper()
		select {
		case <-ch:
		case <-time.After(5 * time.Second):
			t.Fatalf("source not %s", what)
		}
	}
	for round := range 2 {
		s1 := watchOrFail(t, h, WatchOptions{})
		s2 := watchOrFail(t, h, WatchOptions{})
		wait(started, "started")
		s1.Close()
		if !h.g.Running() {
			t.Fatalf("round %d: source stopped while a subscriber remained", round)
		}
		s2.Close()
		wait(stopped, "stopped after the last subscriber left")
		if len(started) != 0 {
			t.Fatalf("round %d: two sources for one host", round)
		}
	}
}
