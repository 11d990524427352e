package agent

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/shirou/gopsutil/v3/cpu"
)

func TestBusyPercent(t *testing.T) {
	a := cpu.TimesStat{User: 100, System: 50, Idle: 800, Iowait: 50}
	cases := []struct {
		name string
		b    cpu.TimesStat
		want float64
	}{
		{"half busy", cpu.TimesStat{User: 150, System: 100, Idle: 900, Iowait: 50}, 50},
		{"idle", cpu.TimesStat{User: 100, System: 50, Idle: 900, Iowait: 50}, 0},
		{"iowait counts as idle", cpu.TimesStat{User: 100, System: 50, Idle: 800, Iowait: 150}, 0},
		{"fully busy", cpu.TimesStat{User: 200, System: 50, Idle: 800, Iowait: 50}, 100},
		{"no time passed", a, 0},
	}
	for _, tc := range cases {
		if got := busyPercent(a, tc.b); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestHeartbeatSharesOneSamplePerInterval(t *testing.T) {
	counts := 0
	r := NewReporter(context.Background(), func(context.Context) (int, error) { counts++; return 42, nil }, nil)
	now := time.Unix(1700000000, 0)
	r.now = func() time.Time { return now }
	first := r.Heartbeat(context.Background())
	now = now.Add(300 * time.Millisecond)
	second := r.Heartbeat(context.Background())
	if counts != 1 || first.ProcessCount != 42 || second.ProcessCount != 42 {
		t.Fatalf("sampled %d times within one interval (want 1)", counts)
	}
	if !second.ServerTime.Equal(now) {
		t.Fatal("server time must be fresh on every call")
	}
	now = now.Add(SampleInterval)
	third := r.Heartbeat(context.Background())
	if counts != 2 || third.CPUWindow <= 0 {
		t.Fatalf("after the interval: samples %d, cpu window %v", counts, third.CPUWindow)
	}
	if third.OS == "" || third.CPUCount == 0 || third.MemoryTotal == 0 || third.AgentStartTime.IsZero() {
		t.Fatalf("static facts missing: %+v", third)
	}
}
