package watch

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/remotectl/remotectl/internal/errdefs"
	"github.com/remotectl/remotectl/server/process"
	"github.com/remotectl/remotectl/server/watch/hub"
)

// fakeLister serves scripted listings: each full listing advances to the
// next frame (the last repeats); detail reads (PID filter) read the current.
type fakeLister struct {
	mu     sync.Mutex
	frames [][]process.Process
	errs   []error // per frame; nil = ok
	i      int
}

func (f *fakeLister) List(_ context.Context, o process.ListOptions) ([]process.Process, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(o.Filter.PIDs) > 0 {
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
	if f.i < len(f.errs) && f.errs[f.i] != nil {
		return nil, f.errs[f.i]
	}
	return f.frames[f.i], nil
}

func (f *fakeLister) Count(context.Context) (int, error) { return 0, nil }

func TestPollerDiffsByPIDAndStartTime(t *testing.T) {
	f := &fakeLister{i: -1, frames: [][]process.Process{
		{proc(10, 0), proc(20, 0)},         // the producer's initial listing
		{proc(10, 0), proc(20, 0)},         // no change: no event
		{proc(10, 0), proc(20, time.Hour)}, // PID 20 reused by a new process
		{proc(20, time.Hour), proc(30, 0)}, // 10 exited, 30 started
	}}
	e := NewEngine(Config{Lister: f, Interval: 5 * time.Millisecond, PollOnly: true})
	defer e.Close()
	if e.Mode() != "poll" {
		t.Fatalf("mode %q", e.Mode())
	}
	s := watch(t, e, Options{Fields: process.FieldArgs, StreamOptions: hub.StreamOptions{IncludeExisting: true}})
	expectSnapshot(t, s, false, 10, 20)
	want := []struct {
		typ   EventType
		pid   int32
		start time.Duration
	}{{EventExited, 20, 0}, {EventStarted, 20, time.Hour}, {EventExited, 10, 0}, {EventStarted, 30, 0}}
	var prev uint64
	for i, w := range want {
		ev := next(t, s)
		if ev.Type != w.typ || ev.Process.PID != w.pid || !ev.Process.StartTime.Equal(t0.Add(w.start)) || prev != 0 && ev.Seq != prev+1 {
			t.Errorf("event %d = %v pid %d start %v seq %d, want %v pid %d start +%v seq %d", i, ev.Type, ev.Process.PID, ev.Process.StartTime, ev.Seq, w.typ, w.pid, w.start, prev+1)
		}
		if len(ev.Process.Args) != 1 {
			t.Errorf("event %d: detail fields not read: %+v", i, ev.Process)
		}
		prev = ev.Seq
	}
}

func TestPollerFailureEndsSubscriptions(t *testing.T) {
	boom := errors.New("proc unreadable")
	f := &fakeLister{i: -1, frames: [][]process.Process{{proc(1, 0)}, nil, nil, nil}, errs: []error{nil, boom, boom, boom}}
	e := NewEngine(Config{Lister: f, Interval: time.Millisecond, PollOnly: true, MaxConsecutiveErrors: 3})
	defer e.Close()
	s := watch(t, e, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := s.Next(ctx)
	if !errors.Is(err, errdefs.ErrUnavailable) || !errors.Is(err, boom) {
		t.Fatalf("Next = %v, want ErrUnavailable wrapping the listing error", err)
	}
}
