package service

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/remotectl/remotectl/internal/errdefs"
)

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

func TestHubSlowSubscriberIsCutOffOthersUnaffected(t *testing.T) {
	h, src := testHub(t, map[string]unitState{"a": {state: StateStopped}})
	ctx := context.Background()
	stalled, err := h.Watch(ctx, WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fast, err := h.Watch(ctx, WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sctx, sh := src()
	const n = QueueLen + 50
	done := make(chan []Event)
	go func() {
		var got []Event
		for ev := range fast.Events() {
			got = append(got, ev)
			if len(got) == n {
				break
			}
		}
		done <- got
	}()
	for i := range n {
		st := StateRunning
		if i%2 == 1 {
			st = StateStopped
		}
		sh.update(sctx, "a", unitState{state: st})
		time.Sleep(50 * time.Microsecond) // let the fast reader keep up
	}
	got := <-done
	for i, ev := range got {
		if ev.Seq != uint64(i+1) {
			t.Fatalf("fast subscriber: event %d has seq %d", i, ev.Seq)
		}
	}
	count := 0
	for range stalled.Events() {
		count++
	}
	if count != QueueLen || !errors.Is(stalled.Err(), errdefs.ErrResourceExhausted) {
		t.Fatalf("stalled subscriber: %d queued events, err %v; want %d and resource exhausted", count, stalled.Err(), QueueLen)
	}
}

func TestHubFilterAndSnapshotDiff(t *testing.T) {
	h, src := testHub(t, map[string]unitState{"web": {state: StateRunning}, "db": {state: StateRunning}})
	ctx := context.Background()
	failedOnly, err := h.Watch(ctx, WatchOptions{Filter: Filter{States: []State{StateFailed}}, IncludeExisting: true})
	if err != nil {
		t.Fatal(err)
	}
	sctx, sh := src()
	// A snapshot reports differences (in name order, then the services missing
	// from it as stopped: db is #2, which the state filter drops).
	sh.replace(sctx, map[string]unitState{"web": {state: StateFailed, native: "failed/failed"}})
	sh.update(sctx, "web", unitState{state: StateRunning})
	sh.update(sctx, "web", unitState{state: StateRunning}) // no change, no event
	sh.update(sctx, "db", unitState{state: StateRunning})  // stopped -> running, not about failed
	h.Close()
	var got []string
	for ev := range failedOnly.Events() {
		got = append(got, fmt.Sprintf("%s %s %s>%s #%d", ev.Type, ev.Name, ev.OldState, ev.NewState, ev.Seq))
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
// connection on systemd) ends with the last subscriber and a new one
// starts it again, so an unwatched agent holds nothing open.
func TestHubSourceRunsOnlyWhileWatched(t *testing.T) {
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
		ctx1, cancel1 := context.WithCancel(context.Background())
		ctx2, cancel2 := context.WithCancel(context.Background())
		if _, err := h.Watch(ctx1, WatchOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := h.Watch(ctx2, WatchOptions{}); err != nil {
			t.Fatal(err)
		}
		wait(started, "started")
		cancel1()
		select {
		case <-stopped:
			t.Fatalf("round %d: source stopped while a subscriber remained", round)
		case <-time.After(100 * time.Millisecond):
		}
		cancel2()
		wait(stopped, "stopped after the last subscriber left")
		if len(started) != 0 {
			t.Fatalf("round %d: two sources for one host", round)
		}
	}
}
