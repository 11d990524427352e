//go:build !windows

package server

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/remotectl/remotectl/client"
	"github.com/remotectl/remotectl/internal/pki"
	"github.com/remotectl/remotectl/internal/testutil"
	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
)

// Figures for the issue (make bench-logs): one follow stream over mutual
// TLS on loopback, the Go client at the other end.

func benchFollow(b *testing.T) (path string, f *client.LogFollow, w *os.File, stop func()) {
	a := startLogAgent(b)
	path = filepath.Join(a.dir, "app", "bench.log")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		b.Fatal(err)
	}
	w, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		b.Fatal(err)
	}
	c, k, err := a.ca.IssueClient("adam", time.Hour, pki.WithURI("spiffe://remotectl.test/admin/adam"))
	pair := keyPair(b, c, k, err)
	cl := a.client(b, pair)
	ctx, cancel := context.WithCancel(context.Background())
	f, err = cl.FollowLogs(ctx, &pb.FollowLogsRequest{Source: fileSource(path)}, client.FollowOptions{})
	if err != nil {
		b.Fatal(err)
	}
	return path, f, w, func() { cancel(); _ = w.Close() }
}

// TestLogFollowFigures measures throughput, append-to-client latency and
// the CPU an idle follow costs. It runs only with REMOTECTL_LOGS_BENCH=1
// (make bench-logs): its figures need a quiet machine, not CI.
func TestLogFollowFigures(t *testing.T) {
	if os.Getenv("REMOTECTL_LOGS_BENCH") == "" {
		t.Skip("figures only: REMOTECTL_LOGS_BENCH=1 (make bench-logs)")
	}
	t.Run("throughput", func(t *testing.T) {
		_, f, w, stop := benchFollow(t)
		defer stop()
		const n = 500000
		line := strings.Repeat("x", 90)
		var buf strings.Builder
		for i := 0; i < 1000; i++ {
			fmt.Fprintf(&buf, "%08d %s\n", i, line) // 100-byte lines
		}
		chunk := []byte(buf.String())
		start := time.Now()
		go func() {
			for i := 0; i < n/1000; i++ {
				_, _ = w.Write(chunk)
			}
		}()
		got := 0
		for range f.Entries() {
			if got++; got == n {
				break
			}
		}
		el := time.Since(start)
		t.Logf("throughput: %d lines of 100 bytes in %v = %.0f lines/s (target >= 50000)", n, el.Round(time.Millisecond), float64(n)/el.Seconds())
	})
	t.Run("latency", func(t *testing.T) {
		_, f, w, stop := benchFollow(t)
		defer stop()
		var lat []time.Duration
		for i := 0; i < 2000; i++ {
			if i%100 == 0 {
				testutil.Window(20 * time.Millisecond) // pacing: each batch starts from an idle follow
			}
			sent := time.Now()
			_, _ = fmt.Fprintf(w, "%d\n", sent.UnixNano())
			e := <-f.Entries()
			ns, _ := strconv.ParseInt(e.GetMessage(), 10, 64)
			lat = append(lat, time.Since(time.Unix(0, ns)))
		}
		slices.Sort(lat)
		t.Logf("append -> client latency over %d lines: p50 %v, p90 %v, p99 %v (target p50 <= 50ms)",
			len(lat), lat[len(lat)/2].Round(time.Microsecond), lat[len(lat)*9/10].Round(time.Microsecond), lat[len(lat)*99/100].Round(time.Microsecond))
	})
	t.Run("idle", func(t *testing.T) {
		cpu := func() time.Duration {
			var ru syscall.Rusage
			_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
			return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		}
		const window = 10 * time.Second
		// Baseline: the agent with no follow, then with one idle follow.
		_ = startLogAgent(t)
		c0 := cpu()
		testutil.Window(window)
		base := cpu() - c0
		_, _, _, stop := benchFollow(t)
		defer stop()
		c1 := cpu()
		testutil.Window(window)
		with := cpu() - c1
		t.Logf("idle follow: process CPU %v over %v with one idle follow vs %v without: +%.3f%% of a core (target <= 0.1%%)",
			with.Round(time.Microsecond), window, base.Round(time.Microsecond), 100*float64(with-base)/float64(window))
	})
}
