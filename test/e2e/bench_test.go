package e2e

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/remotectl/remotectl/internal/testutil"
	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
)

// psArgs is the ps invocation the product is compared with: the same fields
// ListProcesses returns with all fields selected.
var psArgs = []string{"-eo", "pid,ppid,user,stat,lstart,rss,vsz,nlwp,pcpu,args"}

// ensureProcesses spawns sleeping children until the host has about n processes.
func ensureProcesses(b *testing.B, n int) int {
	b.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		b.Skip("no /proc: this benchmark compares with procps on Linux")
	}
	have := 0
	for _, e := range entries {
		if e.Name()[0] >= '0' && e.Name()[0] <= '9' {
			have++
		}
	}
	for i := have; i < n; i++ {
		cmd := exec.Command("sleep", "600", "benchmark-child")
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	}
	if have > n {
		return have
	}
	return n
}

// BenchmarkListProcessesVsPS times, alternately in the same run, a
// ListProcesses call with all fields over loopback mutual TLS (client call to
// decoded response) and ps(1) printing the same fields, and reports both
// and their ratio. Target: ratio <= 0.75.
func BenchmarkListProcessesVsPS(b *testing.B) {
	if _, err := exec.LookPath("ps"); err != nil {
		b.Skip("ps not installed (Debian package procps)")
	}
	n := ensureProcesses(b, 1000)
	a := startAgent(b)
	c := a.client(b)
	ctx := context.Background()
	// Warm up: connection, TLS handshake, CPU-percent baseline.
	if _, err := c.ListProcesses(ctx, nil); err != nil {
		b.Fatal(err)
	}
	testutil.Window(600 * time.Millisecond) // the CPU-percent baseline ages past its window
	if _, err := exec.Command("ps", psArgs...).Output(); err != nil {
		b.Fatal(err)
	}

	var listTime, psTime time.Duration
	listed := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		resp, err := c.ListProcesses(ctx, &pb.ListProcessesRequest{})
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		out, err := exec.Command("ps", psArgs...).Output()
		if err != nil || len(out) == 0 {
			b.Fatal(err)
		}
		t2 := time.Now()
		listTime += t1.Sub(t0)
		psTime += t2.Sub(t1)
		listed = len(resp.Processes)
	}
	b.StopTimer()
	b.ReportMetric(float64(listTime.Nanoseconds())/float64(b.N), "list-ns/op")
	b.ReportMetric(float64(psTime.Nanoseconds())/float64(b.N), "ps-ns/op")
	b.ReportMetric(float64(listTime)/float64(psTime), "list/ps")
	b.ReportMetric(float64(listed), "processes")
	b.Logf("host has ~%d processes; ListProcesses returned %d", n, listed)
}

// BenchmarkHeartbeat measures Heartbeat over loopback mutual TLS from many
// concurrent callers on one connection (host figures are sampled at most
// once per second and shared).
func BenchmarkHeartbeat(b *testing.B) {
	a := startAgent(b, unlimitedReads)
	c := a.client(b)
	if _, err := c.Heartbeat(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Heartbeat(context.Background()); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
