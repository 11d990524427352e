package process

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/remotectl/remotectl/internal/errdefs"
)

// fakeReader serves a fixed process table whose CPU times grow with real
// time at a fixed rate per process.
type fakeReader struct {
	now   func() time.Time // the clock the samples are taken by
	t0    time.Time
	procs []Process
	rate  map[int32]float64 // CPU seconds per second

	mu      sync.Mutex
	reads   int
	queries []query
}

func newFakeReader(procs ...Process) *fakeReader {
	return &fakeReader{now: time.Now, t0: time.Now(), procs: procs, rate: map[int32]float64{}}
}

func (f *fakeReader) read(ctx context.Context, q *query) ([]Process, scan, error) {
	f.mu.Lock()
	f.reads++
	f.queries = append(f.queries, *q)
	f.mu.Unlock()
	now := f.now()
	s := scan{at: now, hasCPU: true, complete: q.pids == nil, pids: q.pids}
	var out []Process
	for _, p := range f.procs {
		if q.pids != nil && !slices.Contains(q.pids, p.PID) {
			continue
		}
		p.CPUUser = time.Duration(f.rate[p.PID] * float64(now.Sub(f.t0)))
		s.samples = append(s.samples, cpuSample{key: p.Key(), cpu: p.CPUUser})
		if !q.samplesOnly && q.filter.Match(&p) {
			out = append(out, p)
		}
	}
	return out, s, nil
}

func (f *fakeReader) count(context.Context) (int, error) { return len(f.procs), nil }

func (f *fakeReader) readCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reads
}

func fakeTable() *fakeReader {
	start := time.Now().Add(-time.Hour)
	f := newFakeReader(
		Process{PID: 1, Name: "init", User: "root", RSS: 10, StartTime: start},
		Process{PID: 2, Name: "busy", User: "alice", RSS: 30, StartTime: start, PPID: 1},
		Process{PID: 3, Name: "idle", User: "alice", RSS: 20, StartTime: start, PPID: 1},
	)
	f.rate[2] = 0.5
	return f
}

func TestListWaitsForSecondSample(t *testing.T) {
	f := fakeTable()
	l := newLister(f, 50*time.Millisecond)
	ps, err := l.List(context.Background(), ListOptions{Fields: FieldCPU | FieldName, Sort: SortCPU})
	if err != nil {
		t.Fatal(err)
	}
	if n := f.readCount(); n != 2 {
		t.Fatalf("reads = %d, want 2 (sample, wait, sample)", n)
	}
	if ps[0].PID != 2 || ps[0].CPUPercent < 40 || ps[0].CPUPercent > 60 {
		t.Fatalf("top = pid %d at %.1f%%, want pid 2 near 50%%", ps[0].PID, ps[0].CPUPercent)
	}
	if ps[0].CPUWindow < 50*time.Millisecond {
		t.Fatalf("CPUWindow = %v, below the minimum", ps[0].CPUWindow)
	}
	if ps[1].CPUPercent != 0 || ps[1].CPUWindow == 0 {
		t.Fatalf("idle process: %.1f%% over %v", ps[1].CPUPercent, ps[1].CPUWindow)
	}
}

func TestListPrimedDoesNotWait(t *testing.T) {
	f := fakeTable()
	// One manual clock for the samples and the lister: the prime is 25 ms
	// old, more than the 20 ms window, without waiting for it.
	now := f.t0
	f.now = func() time.Time { return now }
	l := newLister(f, 20*time.Millisecond)
	l.now = f.now
	if err := l.Prime(context.Background()); err != nil {
		t.Fatal(err)
	}
	now = now.Add(25 * time.Millisecond)
	if _, err := l.List(context.Background(), ListOptions{Fields: FieldCPU}); err != nil {
		t.Fatal(err)
	}
	if n := f.readCount(); n != 2 {
		t.Fatalf("reads = %d, want 2 (prime, list)", n)
	}
	if !f.queries[0].samplesOnly {
		t.Fatal("Prime asked for processes, not only samples")
	}
}

func TestListWithoutCPUDoesNotWait(t *testing.T) {
	f := fakeTable()
	l := newLister(f, time.Hour)
	ps, err := l.List(context.Background(), ListOptions{Fields: FieldName})
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 3 || f.readCount() != 1 {
		t.Fatalf("got %d processes in %d reads, want 3 in 1", len(ps), f.readCount())
	}
}

func TestListWaitHonoursContext(t *testing.T) {
	l := newLister(fakeTable(), time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := l.List(ctx, ListOptions{Fields: FieldCPU})
	if !errors.Is(err, errdefs.ErrDeadlineExceeded) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}

	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(10*time.Millisecond, cancel)
	_, err = l.List(ctx, ListOptions{Sort: SortCPU, Filter: Filter{PIDs: []int32{3}}})
	if !errors.Is(err, errdefs.ErrCanceled) {
		t.Fatalf("err = %v, want canceled", err)
	}
}

func TestListFilterSortMask(t *testing.T) {
	f := fakeTable()
	l := newLister(f, time.Hour)
	ps, err := l.List(context.Background(), ListOptions{
		Filter: Filter{User: "alice", PPID: ptr[int32](1)},
		Sort:   SortMemory,
		Fields: FieldName,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 || ps[0].PID != 2 || ps[1].PID != 3 {
		t.Fatalf("got %+v, want pids 2, 3 (largest memory first)", ps)
	}
	// Read for the filter and the sort, not asked for: not returned.
	if ps[0].Name != "busy" || ps[0].User != "" || ps[0].RSS != 0 || ps[0].UID != -1 {
		t.Fatalf("fields not masked: %+v", ps[0])
	}
	if got := f.queries[0].need; got != FieldName|FieldUser|FieldMemory {
		t.Fatalf("reader asked for %#x", got)
	}
}

func TestListPIDsDeduplicated(t *testing.T) {
	f := fakeTable()
	l := newLister(f, time.Hour)
	ps, err := l.List(context.Background(), ListOptions{Filter: Filter{PIDs: []int32{3, 1, 3, 99}}})
	if err != nil {
		t.Fatal(err)
	}
	if q := f.queries[0]; !slices.Equal(q.pids, []int32{1, 3, 99}) || q.filter.PIDs != nil {
		t.Fatalf("query pids = %v, filter pids = %v", q.pids, q.filter.PIDs)
	}
	if len(ps) != 2 || ps[0].PID != 1 || ps[1].PID != 3 {
		t.Fatalf("got %+v, want pids 1, 3", ps)
	}
}

func TestListInvalid(t *testing.T) {
	l := newLister(fakeTable(), time.Hour)
	_, err := l.List(context.Background(), ListOptions{Filter: Filter{NameGlob: "[x"}})
	if !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Fatalf("err = %v, want invalid argument", err)
	}
}
