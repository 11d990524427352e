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

// scripted is a producer the test drives through the sink of its current
// run (see Engine.started and friends below).
type scripted struct {
	initial []process.Process
	mu      sync.Mutex
	s       sink
}

func (p *scripted) close() {}
func (p *scripted) run(ctx context.Context, s sink) error {
	p.mu.Lock()
	p.s = s
	p.mu.Unlock()
	s.reset(p.initial)
	<-ctx.Done()
	return ctx.Err()
}

func (e *Engine) sink() sink {
	p := e.newProducer().(*scripted)
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.s
}

func (e *Engine) started(p process.Process)    { e.sink().started(p) }
func (e *Engine) exited(p process.Process)     { e.sink().exited(p, nil) }
func (e *Engine) rescan(ps ...process.Process) { e.sink().reset(ps) }

var t0 = time.Unix(1700000000, 0)

func proc(pid int32, startOffset time.Duration) process.Process {
	return process.Process{PID: pid, StartTime: t0.Add(startOffset), Name: "p"}
}

func startEngine(t *testing.T, cfg Config, initial ...process.Process) *Engine {
	t.Helper()
	sp := &scripted{initial: initial}
	e := newEngine(cfg, "scripted", func() producer { return sp })
	t.Cleanup(e.Close)
	return e
}

func watch(t *testing.T, e *Engine, opts Options) Subscription {
	t.Helper()
	s, err := e.Watch(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func next(t *testing.T, s Subscription) Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ev, err := s.Next(ctx)
	if err != nil {
		t.Fatalf("Next: %v", err)
	}
	return ev
}

// expectSnapshot reads [RESYNC] EXISTING(pids...) SYNCED and returns the
// snapshot's sequence number.
func expectSnapshot(t *testing.T, s Subscription, resync bool, pids ...int32) uint64 {
	t.Helper()
	var seq uint64
	if resync {
		ev := next(t, s)
		if ev.Type != EventResync {
			t.Fatalf("got %v, want RESYNC", ev.Type)
		}
		seq = ev.Seq
	}
	for i, pid := range pids {
		ev := next(t, s)
		if ev.Type != EventExisting || ev.Process.PID != pid || (resync || i > 0) && ev.Seq != seq {
			t.Fatalf("snapshot event %d = %v pid %d seq %d, want EXISTING pid %d seq %d", i, ev.Type, ev.Process.PID, ev.Seq, pid, seq)
		}
		seq = ev.Seq
	}
	ev := next(t, s)
	if ev.Type != EventSynced || len(pids) > 0 && ev.Seq != seq {
		t.Fatalf("got %v seq %d, want SYNCED seq %d", ev.Type, ev.Seq, seq)
	}
	return ev.Seq
}

func TestStalledSubscriberIsResyncedAndOthersAreNot(t *testing.T) {
	e := startEngine(t, Config{QueueSize: 8}, proc(1, 0))
	stalled := watch(t, e, Options{})
	fast := watch(t, e, Options{})
	filtered := watch(t, e, Options{Filter: process.Filter{PIDs: []int32{150}}})

	const n = 200
	got := make(chan []Event)
	consumed := make(chan int32, n) // the PIDs the fast subscriber has read
	go func() {
		defer close(consumed)
		var evs []Event
		for range n {
			ev, err := fast.Next(context.Background())
			if err != nil {
				break
			}
			evs = append(evs, ev)
			consumed <- ev.Process.PID
		}
		got <- evs
	}()
	for pid := int32(100); pid < 100+n; pid++ {
		e.started(proc(pid, 0))
		// The stalled subscriber's queue overflows long before the end;
		// the fast one keeps up: every fourth event the producer waits
		// until the fast subscriber has read it.
		if pid%4 == 0 {
			for p := range consumed {
				if p == pid {
					break
				}
			}
		}
	}
	evs := <-got
	if len(evs) != n {
		t.Fatalf("fast subscriber got %d events, want %d", len(evs), n)
	}
	for i, ev := range evs {
		if ev.Type != EventStarted || ev.Process.PID != int32(100+i) || i > 0 && ev.Seq != evs[i-1].Seq+1 {
			t.Fatalf("fast event %d = %v pid %d seq %d", i, ev.Type, ev.Process.PID, ev.Seq)
		}
	}
	if ev := next(t, filtered); ev.Process.PID != 150 || ev.Type != EventStarted {
		t.Fatalf("filtered subscriber got %v pid %d", ev.Type, ev.Process.PID)
	}

	// The stalled one wakes up: RESYNC, the whole current set, SYNCED at
	// the last sequence, then live events follow exactly.
	all := []int32{1}
	for pid := int32(100); pid < 100+n; pid++ {
		all = append(all, pid)
	}
	seq := expectSnapshot(t, stalled, true, all...)
	if last := evs[n-1].Seq; seq != last {
		t.Fatalf("snapshot at seq %d, want %d (the last event)", seq, last)
	}
	e.exited(proc(1, 0))
	if ev := next(t, stalled); ev.Type != EventExited || ev.Process.PID != 1 || ev.Seq != seq+1 {
		t.Fatalf("after resync got %v pid %d seq %d, want EXITED 1 seq %d", ev.Type, ev.Process.PID, ev.Seq, seq+1)
	}
}

func TestSubscriberThatKeepsFallingBehindIsCutOff(t *testing.T) {
	e := startEngine(t, Config{QueueSize: 2, MaxResyncs: 2})
	s := watch(t, e, Options{})
	for round := 0; ; round++ {
		for pid := int32(1); pid <= 3; pid++ {
			e.started(proc(pid+int32(10*round), 0))
		}
		ev, err := s.Next(context.Background())
		if round < 2 {
			if err != nil || ev.Type != EventResync {
				t.Fatalf("round %d: %v %v, want RESYNC", round, ev.Type, err)
			}
			for ev.Type != EventSynced {
				ev = next(t, s)
			}
			continue
		}
		if !errors.Is(err, errdefs.ErrResourceExhausted) {
			t.Fatalf("third overflow within the window: %v, want ErrResourceExhausted", err)
		}
		return
	}
}

func TestResumeBySequence(t *testing.T) {
	e := startEngine(t, Config{RingSize: 8}, proc(1, 0))
	first := watch(t, e, Options{StreamOptions: hub.StreamOptions{IncludeExisting: true}})
	base := expectSnapshot(t, first, false, 1)
	for pid := int32(10); pid < 15; pid++ {
		e.started(proc(pid, 0))
	}
	var seqs []uint64
	for range 5 {
		seqs = append(seqs, next(t, first).Seq)
	}
	if seqs[0] != base+1 {
		t.Fatalf("first live event seq %d, want %d", seqs[0], base+1)
	}

	// Resume after the second event: the three after it, no snapshot,
	// filter applied, then live.
	r := watch(t, e, Options{Filter: process.Filter{PIDs: []int32{12, 14, 20}}, StreamOptions: hub.StreamOptions{ResumeAfter: seqs[1], IncludeExisting: true}})
	for _, want := range []struct {
		pid int32
		seq uint64
	}{{12, seqs[2]}, {14, seqs[4]}} {
		if ev := next(t, r); ev.Type != EventStarted || ev.Process.PID != want.pid || ev.Seq != want.seq {
			t.Fatalf("resumed: %v pid %d seq %d, want STARTED pid %d seq %d", ev.Type, ev.Process.PID, ev.Seq, want.pid, want.seq)
		}
	}
	e.started(proc(20, 0))
	if ev := next(t, r); ev.Process.PID != 20 || ev.Seq != seqs[4]+1 {
		t.Fatalf("live after resume: pid %d seq %d", ev.Process.PID, ev.Seq)
	}
	// Resuming at the newest event gives nothing but live events.
	upToDate := watch(t, e, Options{StreamOptions: hub.StreamOptions{ResumeAfter: seqs[4] + 1}})
	e.exited(proc(20, 0))
	if ev := next(t, upToDate); ev.Type != EventExited || ev.Seq != seqs[4]+2 {
		t.Fatalf("up-to-date resume: %v seq %d", ev.Type, ev.Seq)
	}

	// The ring holds 8 events: push them out, and resuming that far back
	// resyncs with a snapshot instead of a silent gap.
	for pid := int32(30); pid < 40; pid++ {
		e.started(proc(pid, 0))
	}
	old := watch(t, e, Options{Filter: process.Filter{PIDs: []int32{12, 35}}, StreamOptions: hub.StreamOptions{ResumeAfter: seqs[1]}})
	expectSnapshot(t, old, true, 12, 35)
	// A number from an earlier run of the daemon (lower base) resyncs too.
	stale := watch(t, e, Options{Filter: process.Filter{PIDs: []int32{1}}, StreamOptions: hub.StreamOptions{ResumeAfter: 42}})
	expectSnapshot(t, stale, true, 1)
	// So does a number from the future.
	future := watch(t, e, Options{Filter: process.Filter{PIDs: []int32{1}}, StreamOptions: hub.StreamOptions{ResumeAfter: base + 1000}})
	expectSnapshot(t, future, true, 1)
}

func TestLostEventsResyncEveryoneAndBreakResume(t *testing.T) {
	e := startEngine(t, Config{}, proc(1, 0))
	s := watch(t, e, Options{})
	e.started(proc(2, 0))
	seen := next(t, s).Seq
	// A producer that may have missed events (netlink ENOBUFS) rescans.
	e.rescan(proc(1, 0), proc(2, 0))
	expectSnapshot(t, s, true, 1, 2)
	r := watch(t, e, Options{StreamOptions: hub.StreamOptions{ResumeAfter: seen}})
	expectSnapshot(t, r, true, 1, 2)
}

func TestSubscriptionEndsOnStopAndProducerFailure(t *testing.T) {
	e := startEngine(t, Config{})
	stop := make(chan struct{})
	s := watch(t, e, Options{StreamOptions: hub.StreamOptions{Stop: stop}})
	close(stop)
	if _, err := s.Next(context.Background()); !errors.Is(err, ErrStopped) {
		t.Fatalf("after stop: %v", err)
	}
	s2 := watch(t, e, Options{})
	e.Close()
	if _, err := s2.Next(context.Background()); !errors.Is(err, errdefs.ErrUnavailable) {
		t.Fatalf("after Close: %v, want ErrUnavailable", err)
	}
	if _, err := e.Watch(context.Background(), Options{}); !errors.Is(err, errdefs.ErrUnavailable) {
		t.Fatalf("Watch after Close: %v", err)
	}
}

func TestWatchRejectsBadOptions(t *testing.T) {
	e := startEngine(t, Config{})
	if _, err := e.Watch(context.Background(), Options{Filter: process.Filter{NameGlob: "[x"}}); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Fatalf("bad glob: %v", err)
	}
	if _, err := e.Watch(context.Background(), Options{Fields: 1 << 30}); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Fatalf("unknown field: %v", err)
	}
}

// Publishing to many subscribers concurrently with subscribing and
// unsubscribing is race-free (run with -race).
func TestConcurrentSubscribeAndPublish(t *testing.T) {
	e := startEngine(t, Config{QueueSize: 4})
	watch(t, e, Options{}).Close() // starts the producer (it lingers)
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(context.Background())
	for range 20 {
		wg.Go(func() {
			for ctx.Err() == nil {
				s, err := e.Watch(ctx, Options{StreamOptions: hub.StreamOptions{IncludeExisting: true}})
				if err != nil {
					return
				}
				for range 3 {
					if _, err := s.Next(ctx); err != nil {
						break
					}
				}
				s.Close()
			}
		})
	}
	for pid := int32(1); pid < 300; pid++ {
		e.started(proc(pid, 0))
		if pid%2 == 0 {
			e.exited(proc(pid, 0))
		}
	}
	cancel()
	wg.Wait()
	if n := e.Subscribers(); n != 0 {
		t.Fatalf("%d subscribers left after all closed", n)
	}
}
