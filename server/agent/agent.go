// Package agent gathers the host and agent facts that Heartbeat reports.
// Host figures are sampled at most once per SampleInterval and shared between
// callers, so many controllers polling every second cost one sample.
package agent

import (
	"context"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/shirou/gopsutil/v3/cpu"
	"github.com/shirou/gopsutil/v3/host"
	"github.com/shirou/gopsutil/v3/mem"

	"github.com/remotectl/remotectl/internal/version"
)

// SampleInterval is how long a host sample is reused.
const SampleInterval = time.Second

// LoadAverage is the Unix run-queue load.
type LoadAverage struct{ Load1, Load5, Load15 float64 }

// Backend says which implementation serves a capability.
type Backend struct {
	Capability     string
	Implementation string
	Available      bool
	Reason         string
}

// Info is one heartbeat.
type Info struct {
	AgentVersion, AgentCommit                string
	Hostname, OS, Platform, PlatformVersion  string
	KernelVersion, Architecture              string
	BootTime, AgentStartTime, ServerTime     time.Time
	CPUCount                                 int
	CPUPercent                               float64 // busy share of all CPUs, 0..100
	CPUWindow                                time.Duration
	MemoryTotal, MemoryUsed, MemoryAvailable uint64
	Load                                     *LoadAverage // nil where the platform has none
	ProcessCount                             int
	Backends                                 []Backend
}

// BackendsFunc reports the current backends; it is called once per sample.
type BackendsFunc func(ctx context.Context) []Backend

// CountFunc returns the number of processes on the host.
type CountFunc func(ctx context.Context) (int, error)

// Reporter produces heartbeats.
type Reporter struct {
	started  time.Time
	static   Info // fields that do not change while the agent runs
	count    CountFunc
	backends BackendsFunc
	now      func() time.Time

	mu       sync.Mutex
	sample   Info
	sampled  time.Time
	prevCPU  *cpu.TimesStat
	prevTime time.Time
}

// NewReporter reads the static host facts once. count and backends may be nil.
func NewReporter(ctx context.Context, count CountFunc, backends BackendsFunc) *Reporter {
	r := &Reporter{started: time.Now(), count: count, backends: backends, now: time.Now}
	r.static = Info{
		AgentVersion: version.Version, AgentCommit: version.Commit,
		OS: runtime.GOOS, Architecture: runtime.GOARCH, CPUCount: runtime.NumCPU(),
	}
	if hi, err := host.InfoWithContext(ctx); err == nil {
		r.static.Platform, r.static.PlatformVersion = hi.Platform, hi.PlatformVersion
		r.static.KernelVersion = hi.KernelVersion
		r.static.BootTime = time.Unix(int64(hi.BootTime), 0)
	}
	// Prime the CPU baseline so the first heartbeat reports a real delta.
	if t, err := cpu.TimesWithContext(ctx, false); err == nil && len(t) > 0 {
		r.prevCPU, r.prevTime = &t[0], r.now()
	}
	return r
}

// Heartbeat returns the agent and host facts. ServerTime is always fresh; the
// sampled figures are at most SampleInterval old.
func (r *Reporter) Heartbeat(ctx context.Context) Info {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	if r.sampled.IsZero() || now.Sub(r.sampled) >= SampleInterval {
		r.sample = r.take(ctx, now)
		r.sampled = now
	}
	info := r.sample
	info.ServerTime = now
	return info
}

func (r *Reporter) take(ctx context.Context, now time.Time) Info {
	info := r.static
	info.AgentStartTime = r.started
	info.Hostname, _ = os.Hostname()
	if vm, err := mem.VirtualMemoryWithContext(ctx); err == nil {
		info.MemoryTotal, info.MemoryAvailable = vm.Total, vm.Available
		info.MemoryUsed = vm.Total - vm.Available
	}
	if t, err := cpu.TimesWithContext(ctx, false); err == nil && len(t) > 0 {
		if r.prevCPU != nil {
			info.CPUPercent = busyPercent(*r.prevCPU, t[0])
			info.CPUWindow = now.Sub(r.prevTime)
		}
		r.prevCPU, r.prevTime = &t[0], now
	}
	info.Load = loadAverage(ctx)
	if r.count != nil {
		if n, err := r.count(ctx); err == nil {
			info.ProcessCount = n
		}
	}
	if r.backends != nil {
		info.Backends = r.backends(ctx)
	}
	return info
}

// busyPercent is the non-idle share of CPU time between two samples.
func busyPercent(a, b cpu.TimesStat) float64 {
	idle := func(t cpu.TimesStat) float64 { return t.Idle + t.Iowait }
	total := func(t cpu.TimesStat) float64 {
		// Guest time is already included in User/Nice on Linux.
		return t.User + t.System + t.Idle + t.Nice + t.Iowait + t.Irq + t.Softirq + t.Steal
	}
	dt := total(b) - total(a)
	if dt <= 0 {
		return 0
	}
	busy := dt - (idle(b) - idle(a))
	p := busy / dt * 100
	switch {
	case p < 0:
		return 0
	case p > 100:
		return 100
	}
	return p
}
