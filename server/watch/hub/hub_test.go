package hub

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/remotectl/remotectl/internal/errdefs"
)

// state is a test producer: a set of ints, changed by the test through
// the run's context.
type state struct {
	mu    sync.Mutex
	ctx   context.Context
	items map[int]bool
	runs  int
	ready chan struct{}
}

func newState() *state { return &state{items: map[int]bool{}, ready: make(chan struct{}, 8)} }

func (s *state) config(linger time.Duration) Config[int] {
	return Config[int]{
		Name: "test", Linger: linger, QueueSize: 4, RingSize: 8,
		Run: func(ctx context.Context, h *Hub[int]) error {
			s.mu.Lock()
			s.ctx = ctx
			s.runs++
			s.mu.Unlock()
			h.Update(ctx, func(tx *Tx[int]) { tx.Ready() })
			s.ready <- struct{}{}
			<-ctx.Done()
			return ctx.Err()
		},
		Snapshot: func(match func(*int) bool) []int {
			var out []int
			for i := range 100 {
				if s.items[i] && match(&i) {
					out = append(out, i)
				}
			}
			return out
		},
	}
}

// add publishes i as a change in the current run.
func (s *state) add(t *testing.T, h *Hub[int], i int) uint64 {
	t.Helper()
	s.mu.Lock()
	ctx := s.ctx
	s.mu.Unlock()
	var seq uint64
	if !h.Update(ctx, func(tx *Tx[int]) { s.items[i] = true; seq = tx.Publish(i) }) {
		t.Fatal("update outside a run")
	}
	return seq
}

func watch(t *testing.T, h *Hub[int], o Options[int]) *Sub[int] {
	t.Helper()
	s, err := h.Watch(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func next(t *testing.T, s *Sub[int]) Event[int] {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ev, err := s.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func expectResync(t *testing.T, s *Sub[int], items ...int) {
	t.Helper()
	if ev := next(t, s); ev.Kind != Resync {
		t.Fatalf("got %+v, want Resync", ev)
	}
	for _, i := range items {
		if ev := next(t, s); ev.Kind != Existing || ev.Data != i {
			t.Fatalf("got %+v, want Existing %d", ev, i)
		}
	}
	if ev := next(t, s); ev.Kind != Synced {
		t.Fatalf("got %+v, want Synced", ev)
	}
}

func TestSequencesAreJSONSafeAndARestartNeverReusesThem(t *testing.T) {
	for _, tc := range []struct {
		name string
		at   time.Time
	}{
		{"now", time.Now()},
		{"2052", time.Date(2052, 3, 1, 0, 0, 0, 0, time.UTC)},
		{"before the epoch base", time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := newState()
			h := newAt(st.config(0), tc.at)
			t.Cleanup(h.Close)
			s := watch(t, h, Options[int]{})
			seq := st.add(t, h, 1)
			if ev := next(t, s); ev.Seq != seq || seq > MaxSeq || float64(seq) != float64(int64(seq)) {
				t.Fatalf("seq %d (event %d) is not below 2^53", seq, ev.Seq)
			}
			// The same agent restarted 100 ms later starts in another epoch
			// (above, with a sane clock), so the old number resumes nowhere.
			st2 := newState()
			h2 := newAt(st2.config(0), tc.at.Add(epochUnit))
			t.Cleanup(h2.Close)
			r := watch(t, h2, Options[int]{StreamOptions: StreamOptions{ResumeAfter: seq}})
			if EpochOf(r.Start()) == EpochOf(seq) || tc.at.After(epochBase) && r.Start() <= seq {
				t.Fatalf("restarted hub starts at %d after %d", r.Start(), seq)
			}
			expectResync(t, r)
		})
	}
}

// A full counter starts a new epoch: live subscribers see nothing of it, a
// resume across it resyncs.
func TestCounterWrap(t *testing.T) {
	st := newState()
	h := New(st.config(0))
	t.Cleanup(h.Close)
	s := watch(t, h, Options[int]{})
	h.mu.Lock()
	h.seq = firstSeq(h.epoch) + 1<<counterBits - 3
	h.ring.reset(h.seq + 1)
	h.mu.Unlock()
	a := st.add(t, h, 1)
	b := st.add(t, h, 2)
	if EpochOf(b) == EpochOf(a) {
		t.Fatalf("seq %d after %d: no new epoch", b, a)
	}
	for _, want := range []uint64{a, b} {
		if ev := next(t, s); ev.Kind != Live || ev.Seq != want {
			t.Fatalf("live subscriber got %+v, want seq %d", ev, want)
		}
	}
	expectResync(t, watch(t, h, Options[int]{StreamOptions: StreamOptions{ResumeAfter: a - 1}}), 1, 2)
	if r := watch(t, h, Options[int]{StreamOptions: StreamOptions{ResumeAfter: b}}); len(r.pending) != 0 {
		t.Fatalf("resume at the newest event replays %d", len(r.pending))
	}
}

// With nobody watching the producer stops (at once with a negative linger,
// after Linger otherwise) and the next Watch starts it again; a resume that
// reaches across the unwatched gap resyncs.
func TestProducerRunsOnlyWhileWatched(t *testing.T) {
	st := newState()
	h := New(st.config(-1))
	t.Cleanup(h.Close)
	s, err := h.Watch(context.Background(), Options[int]{})
	if err != nil {
		t.Fatal(err)
	}
	seq := st.add(t, h, 7)
	s.Close()
	if h.Running() {
		t.Fatal("producer runs with no subscriber")
	}
	r := watch(t, h, Options[int]{StreamOptions: StreamOptions{ResumeAfter: seq}})
	if st.runs != 2 {
		t.Fatalf("%d runs, want 2", st.runs)
	}
	expectResync(t, r, 7)

	// A lingering producer keeps running: a quick reconnect resumes exactly.
	st2 := newState()
	h2 := New(st2.config(time.Hour))
	t.Cleanup(h2.Close)
	s2, _ := h2.Watch(context.Background(), Options[int]{})
	seq = st2.add(t, h2, 1)
	s2.Close()
	if !h2.Running() {
		t.Fatal("lingering producer stopped")
	}
	after := st2.add(t, h2, 2)
	r2 := watch(t, h2, Options[int]{StreamOptions: StreamOptions{ResumeAfter: seq}})
	if ev := next(t, r2); ev.Kind != Live || ev.Seq != after || ev.Data != 2 {
		t.Fatalf("resume within the linger: %+v, want Live 2 seq %d", ev, after)
	}
}

// A producer failure ends every subscription with ErrUnavailable; the next
// Watch starts a new run.
func TestProducerFailure(t *testing.T) {
	st := newState()
	h := New(st.config(time.Hour))
	t.Cleanup(h.Close)
	s := watch(t, h, Options[int]{})
	st.mu.Lock()
	ctx := st.ctx
	st.mu.Unlock()
	h.Fail(ctx, errors.New("boom"))
	if _, err := s.Next(context.Background()); !errors.Is(err, errdefs.ErrUnavailable) {
		t.Fatalf("after failure: %v, want ErrUnavailable", err)
	}
	watch(t, h, Options[int]{})
	if st.runs != 2 {
		t.Fatalf("%d runs, want 2", st.runs)
	}
}
