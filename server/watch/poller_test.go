package watch

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/remotectl/remotectl/server/process"
)

// fakeLister serves scripted listings: each List call of the poll (Fields 0)
// advances to the next frame; detail calls (PID filter) read the current one.
type fakeLister struct {
	mu     sync.Mutex
	frames [][]process.Process
	errs   []error // per frame; nil = ok
	i      int
	polled chan int
}

func (f *fakeLister) List(_ context.Context, o process.ListOptions) ([]process.Process, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if o.Fields != 0 { // detail read for new processes
		var out []process.Process
		for _, p := range f.frames[f.i] {
			for _, pid := range o.Filter.PIDs {
				if p.PID == pid {
					p.Args = []string{"detail"}
					out = append(out, p)
				}
			}
		}
		return out, nil
	}
	if f.i < len(f.frames)-1 {
		f.i++
	}
	if f.polled != nil {
		select {
		case f.polled <- f.i:
		default:
		}
	}
	if f.i < len(f.errs) && f.errs[f.i] != nil {
		return nil, f.errs[f.i]
	}
	return f.frames[f.i], nil
}

func (f *fakeLister) Count(context.Context) (int, error) { return 0, nil }

var t0 = time.Unix(1700000000, 0)

func proc(pid int32, startOffset time.Duration) process.Process {
	return process.Process{PID: pid, StartTime: t0.Add(startOffset), Name: "p"}
}

func collect(t *testing.T, sub Subscription, n int) []Event {
	t.Helper()
	var evs []Event
	timeout := time.After(5 * time.Second)
	for len(evs) < n {
		select {
		case ev, ok := <-sub.Events():
			if !ok {
				t.Fatalf("closed after %d events (%v); err %v", len(evs), evs, sub.Err())
			}
			evs = append(evs, ev)
		case <-timeout:
			t.Fatalf("got %d events, want %d: %v", len(evs), n, evs)
		}
	}
	return evs
}

func TestPollerDiffsByPIDAndStartTime(t *testing.T) {
	// Each poll advances one frame; the last frame repeats.
	f := &fakeLister{frames: [][]process.Process{
		{proc(10, 0), proc(20, 0)},         // Watch's initial listing
		{proc(10, 0), proc(20, 0)},         // no change: no event
		{proc(10, 0), proc(20, time.Hour)}, // PID 20 reused by a new process
		{proc(20, time.Hour), proc(30, 0)}, // 10 exited, 30 started
	}}
	f.i = -1 // the first List lands on frame 0
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sub, err := (&Poller{Lister: f, Interval: 5 * time.Millisecond}).Watch(ctx, Options{IncludeExisting: true, Fields: process.FieldArgs})
	if err != nil {
		t.Fatal(err)
	}
	evs := collect(t, sub, 7)
	want := []struct {
		typ   EventType
		pid   int32
		start time.Duration
	}{
		{EventExisting, 10, 0}, {EventExisting, 20, 0}, {EventSynced, 0, 0},
		{EventExited, 20, 0}, {EventStarted, 20, time.Hour},
		{EventExited, 10, 0}, {EventStarted, 30, 0},
	}
	for i, w := range want {
		ev := evs[i]
		if ev.Seq != uint64(i+1) {
			t.Errorf("event %d: seq %d, want %d", i, ev.Seq, i+1)
		}
		if ev.Type != w.typ || (w.typ != EventSynced && (ev.Process.PID != w.pid || !ev.Process.StartTime.Equal(t0.Add(w.start)))) {
			t.Errorf("event %d = %v pid %d start %v, want %v pid %d start +%v", i, ev.Type, ev.Process.PID, ev.Process.StartTime, w.typ, w.pid, w.start)
		}
		if (w.typ == EventStarted || w.typ == EventExisting) && len(ev.Process.Args) != 1 {
			t.Errorf("event %d: requested fields not read: %+v", i, ev.Process)
		}
	}
}

func TestPollerEndsWithErrorAfterRepeatedFailures(t *testing.T) {
	boom := errors.New("proc unreadable")
	f := &fakeLister{frames: [][]process.Process{{proc(1, 0)}, nil, nil, nil}, errs: []error{nil, boom, boom, boom}}
	f.i = -1
	sub, err := (&Poller{Lister: f, Interval: time.Millisecond, MaxConsecutiveErrors: 3}).Watch(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for range sub.Events() {
		t.Fatal("no event expected")
	}
	if !errors.Is(sub.Err(), boom) {
		t.Fatalf("Err = %v, want it to wrap the listing error", sub.Err())
	}
}

func TestPollerRejectsBadOptionsAndStopsOnCancel(t *testing.T) {
	f := &fakeLister{frames: [][]process.Process{{proc(1, 0)}}}
	p := &Poller{Lister: f, Interval: time.Millisecond}
	if _, err := p.Watch(context.Background(), Options{Filter: process.Filter{NameGlob: "[x"}}); err == nil {
		t.Fatal("bad glob accepted")
	}
	if _, err := p.Watch(context.Background(), Options{Fields: 1 << 30}); err == nil {
		t.Fatal("unknown field accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	sub, err := p.Watch(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case _, ok := <-sub.Events():
		if ok {
			t.Fatal("unexpected event")
		}
	case <-time.After(2 * time.Second):
		t.Fatal("channel not closed after cancel")
	}
	if sub.Err() != nil {
		t.Fatalf("Err after cancel = %v", sub.Err())
	}
}
