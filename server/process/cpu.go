package process

import (
	"runtime"
	"sync"
	"time"
)

// DefaultCPUWindow is the shortest interval CPU percent is measured over.
// Shorter windows are dominated by the 10ms granularity of CPU accounting.
const DefaultCPUWindow = 500 * time.Millisecond

// maxTracked bounds the CPU history; past it the history is dropped and
// rebuilt, which only costs one wait.
const maxTracked = 1 << 16

// cpuSample is the cumulative CPU time (user+system) of one process.
type cpuSample struct {
	key Key
	cpu time.Duration
}

type cpuPoint struct {
	cpu time.Duration
	at  time.Time
}

// cpuHist is the CPU history of one process: its last two recorded points,
// kept at least minWindow apart so a usable reference always exists.
type cpuHist struct {
	prev, last cpuPoint // prev.at is zero until the second point
	// bornAfter is a time at which a scan covering this PID did not see the
	// process: it started later, so all its CPU time lies after bornAfter.
	// Zero when unknown.
	bornAfter time.Time
	gen       uint64 // scan generation that last saw the process
}

// ref returns the newest point at least atLeast older than at.
func (h *cpuHist) ref(at time.Time, atLeast time.Duration) (cpuPoint, bool) {
	if at.Sub(h.last.at) >= atLeast {
		return h.last, true
	}
	if !h.prev.at.IsZero() && at.Sub(h.prev.at) >= atLeast {
		return h.prev, true
	}
	return cpuPoint{}, false
}

// cpuTracker turns cumulative CPU times into percentages over a window of at
// least minWindow ending at the current sample. It remembers which scans
// covered which PIDs, so a process it has no point for is either known to
// have started inside the window (measured over its lifetime, exactly) or
// needs a second sample.
type cpuTracker struct {
	minWindow time.Duration
	maxPct    float64

	mu     sync.Mutex
	hist   map[Key]*cpuHist
	fullAt time.Time           // last scan that saw every process
	partAt map[int32]time.Time // later scans that saw only some PIDs
	last   time.Time           // newest recorded scan
	gen    uint64
}

func newCPUTracker(minWindow time.Duration) *cpuTracker {
	return &cpuTracker{
		minWindow: minWindow,
		maxPct:    100 * float64(runtime.NumCPU()),
		hist:      make(map[Key]*cpuHist),
		partAt:    make(map[int32]time.Time),
	}
}

// scan is what a reader saw at one time: CPU samples of every process it
// read (filtered out or not), and which PIDs it covered.
type scan struct {
	at time.Time
	// hasCPU is set when samples hold every process the scan saw; readers
	// that did not read CPU times leave it unset and the scan is ignored.
	hasCPU  bool
	samples []cpuSample
	// pids is the PID set the scan was limited to; nil with complete set
	// when it saw every process.
	pids     []int32
	complete bool
	// startSkew is added to Process.StartTime to get the true start where
	// the platform rounds start times down (Linux: whole-second boot time).
	startSkew time.Duration
}

// newScan starts the scan of a listing for q now; hasCPU as above.
func newScan(q *query, hasCPU bool) scan {
	return scan{at: time.Now(), hasCPU: hasCPU, pids: q.pids, complete: q.pids == nil}
}

// update sets CPUPercent and CPUWindow of procs (when measure is set) from
// the history, then records s. It returns the zero time when every process
// in procs was measured, else the time after which a new scan can measure
// them all.
func (t *cpuTracker) update(s *scan, procs []Process, measure bool) (retryAt time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if measure {
		for i := range procs {
			if r := t.measure(s, &procs[i]); r.After(retryAt) {
				retryAt = r
			}
		}
	}
	t.record(s)
	return retryAt
}

func (t *cpuTracker) measure(s *scan, p *Process) (retryAt time.Time) {
	at := s.at
	if p.Unavailable&FieldCPU != 0 {
		return time.Time{}
	}
	cpu := p.CPUUser + p.CPUSystem
	born := t.coveredAt(p.PID)
	if h := t.hist[p.Key()]; h != nil {
		if ref, ok := h.ref(at, t.minWindow); ok {
			t.set(p, cpu-ref.cpu, at.Sub(ref.at))
			return time.Time{}
		}
		born = h.bornAfter
		retryAt = h.last.at.Add(t.minWindow)
	} else {
		retryAt = at.Add(t.minWindow)
	}
	if born.IsZero() || !born.Before(at) {
		return retryAt
	}
	// Started after born: its whole CPU time was spent within its lifetime,
	// which lies within the window.
	w := at.Sub(p.StartTime.Add(s.startSkew))
	if lim := at.Sub(born); w > lim {
		w = lim
	}
	t.set(p, cpu, max(w, 10*time.Millisecond))
	return time.Time{}
}

func (t *cpuTracker) set(p *Process, used, window time.Duration) {
	pct := 100 * used.Seconds() / window.Seconds()
	// Tick granularity can push short windows past what the host can do.
	p.CPUPercent = min(max(pct, 0), t.maxPct)
	p.CPUWindow = window
}

func (t *cpuTracker) coveredAt(pid int32) time.Time {
	if at, ok := t.partAt[pid]; ok && at.After(t.fullAt) {
		return at
	}
	return t.fullAt
}

func (t *cpuTracker) record(s *scan) {
	if !s.hasCPU || s.at.Before(t.last) {
		return // a concurrent, newer scan was recorded first
	}
	if len(t.hist) > maxTracked {
		t.reset()
	}
	t.last = s.at
	t.gen++
	for _, smp := range s.samples {
		h := t.hist[smp.key]
		switch {
		case h == nil:
			h = &cpuHist{last: cpuPoint{smp.cpu, s.at}, bornAfter: t.coveredAt(smp.key.PID)}
			t.hist[smp.key] = h
		case s.at.Sub(h.last.at) >= t.minWindow:
			h.prev, h.last = h.last, cpuPoint{smp.cpu, s.at}
		}
		h.gen = t.gen
	}
	if s.complete {
		t.fullAt = s.at
		clear(t.partAt)
		for k, h := range t.hist {
			if h.gen != t.gen {
				delete(t.hist, k)
			}
		}
		return
	}
	covered := make(map[int32]bool, len(s.pids))
	for _, pid := range s.pids {
		covered[pid] = true
		t.partAt[pid] = s.at
	}
	for k, h := range t.hist {
		if h.gen != t.gen && covered[k.PID] {
			delete(t.hist, k) // exited, or its PID was reused
		}
	}
}

func (t *cpuTracker) reset() {
	clear(t.hist)
	clear(t.partAt)
	t.fullAt = time.Time{}
}
