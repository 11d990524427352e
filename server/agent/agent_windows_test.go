package agent

import (
	"context"
	"testing"
	"time"

	"github.com/remotectl/remotectl/internal/testutil"
)

// TestWindowsHeartbeat reads the real Windows host (make test-windows runs it
// under Wine): the same facts as elsewhere, and no load average rather than
// zeros that would look real.
func TestWindowsHeartbeat(t *testing.T) {
	ctx := context.Background()
	r := NewReporter(ctx, func(context.Context) (int, error) { return 42, nil }, nil)
	testutil.Window(200 * time.Millisecond) // a window for the CPU counters to move over
	info := r.Heartbeat(ctx)
	if info.OS != "windows" || info.Platform == "" || info.PlatformVersion == "" || info.KernelVersion == "" {
		t.Errorf("os facts = %q %q %q %q", info.OS, info.Platform, info.PlatformVersion, info.KernelVersion)
	}
	if info.Load != nil {
		t.Errorf("load = %+v, want none on Windows", info.Load)
	}
	if info.MemoryTotal == 0 || info.MemoryAvailable == 0 || info.MemoryUsed > info.MemoryTotal {
		t.Errorf("memory total/used/available = %d/%d/%d", info.MemoryTotal, info.MemoryUsed, info.MemoryAvailable)
	}
	if info.BootTime.IsZero() || info.BootTime.After(time.Now()) || info.Hostname == "" || info.CPUCount < 1 {
		t.Errorf("boot %v, hostname %q, cpus %d", info.BootTime, info.Hostname, info.CPUCount)
	}
	if info.CPUWindow <= 0 || info.CPUPercent < 0 || info.CPUPercent > 100 {
		t.Errorf("cpu %v%% over %v, want a measured share", info.CPUPercent, info.CPUWindow)
	}
	if info.ProcessCount != 42 {
		t.Errorf("process count = %d, want the counter's 42", info.ProcessCount)
	}
}
