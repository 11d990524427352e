package process

import (
	"math"
	"testing"
	"time"
)

const testWindow = 500 * time.Millisecond

var epoch = time.Unix(1_700_000_000, 0)

// at returns epoch+ms.
func at(ms int) time.Time { return epoch.Add(time.Duration(ms) * time.Millisecond) }

// proc is a process started at start (ms after epoch) that has used cpu ms.
func proc(pid int32, start, cpu int) Process {
	return Process{PID: pid, StartTime: at(start), CPUUser: time.Duration(cpu) * time.Millisecond}
}

// complete returns a scan of every process on the host, taken at ms.
func complete(ms int, procs ...Process) (*scan, []Process) {
	s := &scan{at: at(ms), hasCPU: true, complete: true}
	for _, p := range procs {
		s.samples = append(s.samples, cpuSample{key: p.Key(), cpu: p.CPUUser + p.CPUSystem})
	}
	return s, procs
}

// partial returns a scan limited to pids, taken at ms.
func partial(ms int, pids []int32, procs ...Process) (*scan, []Process) {
	s, procs := complete(ms, procs...)
	s.complete, s.pids = false, pids
	return s, procs
}

func wantPct(t *testing.T, p Process, pct float64, window time.Duration) {
	t.Helper()
	if math.Abs(p.CPUPercent-pct) > 1e-6 || p.CPUWindow != window {
		t.Fatalf("pid %d: CPUPercent=%v over %v, want %v over %v", p.PID, p.CPUPercent, p.CPUWindow, pct, window)
	}
}

func TestCPUFirstSampleWaits(t *testing.T) {
	tr := newCPUTracker(testWindow)
	s, ps := complete(0, proc(1, -10_000, 4_000))
	if retry := tr.update(s, ps, true); !retry.Equal(at(500)) {
		t.Fatalf("retryAt = %v, want %v", retry, at(500))
	}
	// Never a lifetime average: the first sample measures nothing.
	wantPct(t, ps[0], 0, 0)

	s, ps = complete(500, proc(1, -10_000, 4_250))
	if retry := tr.update(s, ps, true); !retry.IsZero() {
		t.Fatalf("retryAt = %v after a full window", retry)
	}
	wantPct(t, ps[0], 50, 500*time.Millisecond)
}

func TestCPUWindowNeverTiny(t *testing.T) {
	tr := newCPUTracker(testWindow)
	s, ps := complete(0, proc(1, -10_000, 0))
	tr.update(s, ps, false) // prime
	s, ps = complete(600, proc(1, -10_000, 600))
	tr.update(s, ps, true)
	wantPct(t, ps[0], 100, 600*time.Millisecond)

	// 10ms after the baseline moved: measure against the older point.
	s, ps = complete(610, proc(1, -10_000, 610))
	tr.update(s, ps, true)
	wantPct(t, ps[0], 100, 610*time.Millisecond)

	// Once the newer point is old enough it becomes the reference.
	s, ps = complete(1200, proc(1, -10_000, 900))
	tr.update(s, ps, true)
	wantPct(t, ps[0], 50, 600*time.Millisecond)
}

func TestCPUNewProcessLifetime(t *testing.T) {
	tr := newCPUTracker(testWindow)
	s, ps := complete(0, proc(1, -10_000, 0))
	tr.update(s, ps, false)
	// Started 200ms before the sample, after the baseline: exact over its life.
	s, ps = complete(1000, proc(1, -10_000, 100), proc(2, 800, 50))
	if retry := tr.update(s, ps, true); !retry.IsZero() {
		t.Fatalf("retryAt = %v, want none", retry)
	}
	wantPct(t, ps[0], 10, time.Second)
	wantPct(t, ps[1], 25, 200*time.Millisecond)

	// 100ms later it has a point, but too recent: still lifetime.
	s, ps = complete(1100, proc(1, -10_000, 110), proc(2, 800, 100))
	tr.update(s, ps, true)
	wantPct(t, ps[1], 100.0/3, 300*time.Millisecond)
}

func TestCPUStartSkew(t *testing.T) {
	tr := newCPUTracker(testWindow)
	s, ps := complete(0)
	tr.update(s, ps, false)
	// Reported start rounded down by 300ms; true lifetime is 200ms.
	s, ps = complete(1000, proc(2, 500, 100))
	s.startSkew = 300 * time.Millisecond
	tr.update(s, ps, true)
	wantPct(t, ps[0], 50, 200*time.Millisecond)
}

func TestCPULifetimeClampedToCoverage(t *testing.T) {
	tr := newCPUTracker(testWindow)
	s, ps := complete(1000)
	tr.update(s, ps, false)
	// A start time before the covering scan (clock error) cannot stretch
	// the window past the time the process was known absent.
	s, ps = complete(2000, proc(2, 0, 500))
	tr.update(s, ps, true)
	wantPct(t, ps[0], 50, time.Second)
}

func TestCPUPartialScanCoverage(t *testing.T) {
	tr := newCPUTracker(testWindow)
	// Only PID 5 was looked at: PID 6 is unknown, PID 5 covered.
	s, ps := partial(0, []int32{5}, proc(5, -1000, 0))
	tr.update(s, ps, false)

	s, ps = partial(100, []int32{6}, proc(6, -5000, 1000))
	if retry := tr.update(s, ps, true); !retry.Equal(at(600)) {
		t.Fatalf("retryAt = %v, want %v", retry, at(600))
	}
	wantPct(t, ps[0], 0, 0)

	// PID 5 was reused after the first scan: the new process is measured
	// over its lifetime, and the old one's history is dropped.
	s, ps = partial(1000, []int32{5}, proc(5, 900, 20))
	tr.update(s, ps, true)
	wantPct(t, ps[0], 20, 100*time.Millisecond)
	if _, ok := tr.hist[Key{PID: 5, StartTime: at(-1000)}]; ok {
		t.Fatal("history of the exited PID 5 kept")
	}
}

func TestCPUPrunesExited(t *testing.T) {
	tr := newCPUTracker(testWindow)
	s, ps := complete(0, proc(1, -100, 0), proc(2, -100, 0))
	tr.update(s, ps, false)
	s, ps = complete(600, proc(1, -100, 0))
	tr.update(s, ps, false)
	if len(tr.hist) != 1 {
		t.Fatalf("history has %d entries, want 1", len(tr.hist))
	}
}

func TestCPUStaleScanNotRecorded(t *testing.T) {
	tr := newCPUTracker(testWindow)
	s, ps := complete(0, proc(1, -100, 0))
	tr.update(s, ps, false)
	s, ps = complete(1000, proc(1, -100, 500))
	tr.update(s, ps, false)
	// A concurrent listing that sampled at 900 finishes last.
	s, ps = complete(900, proc(1, -100, 450))
	tr.update(s, ps, true)
	wantPct(t, ps[0], 50, 900*time.Millisecond)
	if got := tr.hist[ps[0].Key()].last.at; !got.Equal(at(1000)) {
		t.Fatalf("last point at %v, want %v", got, at(1000))
	}
}

func TestCPUUnavailableAndClamp(t *testing.T) {
	tr := newCPUTracker(testWindow)
	s, ps := complete(0)
	tr.update(s, ps, false)
	p := proc(2, 995, 1000)
	q := proc(3, -10, 0)
	q.Unavailable = FieldCPU
	s, ps = complete(1000, p, q)
	if retry := tr.update(s, ps, true); !retry.IsZero() {
		t.Fatalf("retryAt = %v, want none", retry)
	}
	// 1s of CPU in a 10ms life is tick noise: clamped to the host maximum.
	if ps[0].CPUPercent != tr.maxPct {
		t.Fatalf("CPUPercent = %v, want clamp %v", ps[0].CPUPercent, tr.maxPct)
	}
	wantPct(t, ps[1], 0, 0)
}
