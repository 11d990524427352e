package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/remotectl/remotectl/client"
	"github.com/remotectl/remotectl/internal/defaults"
	"github.com/remotectl/remotectl/internal/pki"
	"github.com/remotectl/remotectl/internal/testutil"
	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
	"github.com/remotectl/remotectl/server/watch"
)

// The watch figures take minutes: `make bench-watch` sets this variable.
func benchWatch(t *testing.T) {
	t.Helper()
	if os.Getenv("REMOTECTL_BENCH_WATCH") == "" {
		t.Skip("watch benchmark: run with make bench-watch (REMOTECTL_BENCH_WATCH=1)")
	}
}

// TestWatchBenchLatency measures the time from starting a process to its
// STARTED event arriving at a client over loopback mTLS, with the netlink
// connector (root) and with polling at the default 1 s interval.
func TestWatchBenchLatency(t *testing.T) {
	benchWatch(t)
	paths := devPKI(t)
	for _, mode := range []struct {
		name    string
		cfg     watch.Config
		samples int
		gap     time.Duration
	}{
		{"netlink", watch.Config{}, 200, 20 * time.Millisecond},
		{"poll", watch.Config{PollOnly: true, Interval: watch.DefaultPollInterval}, 60, 137 * time.Millisecond},
	} {
		a := startEngineAgentWith(t, paths, "127.0.0.1:0", mode.cfg)
		if a.mode != mode.name {
			t.Logf("%s: skipped (the engine runs %s; the connector needs root)", mode.name, a.mode)
			a.stop()
			continue
		}
		c := a.client(t)
		ctx, cancel := context.WithCancel(context.Background())
		me := int32(os.Getpid())
		w, err := c.WatchProcesses(ctx, &pb.WatchProcessesRequest{Filter: &pb.ProcessFilter{Ppid: &me}})
		if err != nil {
			t.Fatal(err)
		}
		arrived := map[int32]time.Time{}
		started := map[int32]time.Time{}
		var kids []*exec.Cmd
		for range mode.samples {
			// The child outlives two polls, so polling sees it.
			cmd := exec.Command("sleep", "2.5")
			t0 := time.Now()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			started[int32(cmd.Process.Pid)] = t0
			kids = append(kids, cmd)
			drain(w.Events(), arrived, mode.gap)
		}
		deadline := time.Now().Add(5 * time.Second)
		for len(arrived) < len(started) && time.Now().Before(deadline) {
			drain(w.Events(), arrived, 50*time.Millisecond)
		}
		cancel()
		for _, k := range kids {
			_ = k.Process.Kill()
			_ = k.Wait()
		}
		var lat []time.Duration
		for pid, t0 := range started {
			if at, ok := arrived[pid]; ok {
				lat = append(lat, at.Sub(t0))
			}
		}
		if len(lat) != len(started) {
			t.Errorf("%s: %d of %d STARTED events arrived", mode.name, len(lat), len(started))
		}
		slices.Sort(lat)
		t.Logf("FIGURE latency %s (mode %s): n=%d p50=%v p99=%v max=%v", mode.name, a.mode, len(lat), pct(lat, 50), pct(lat, 99), lat[len(lat)-1])
		a.stop()
	}
}

// drain records the arrival time of STARTED events for up to d.
func drain(events <-chan *pb.ProcessEvent, arrived map[int32]time.Time, d time.Duration) {
	timeout := time.After(d)
	for {
		select {
		case ev := <-events:
			if ev.GetType() == pb.ProcessEventType_PROCESS_EVENT_TYPE_STARTED {
				arrived[ev.GetProcess().GetPid()] = time.Now()
			}
		case <-timeout:
			return
		}
	}
}

func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	return d[min(len(d)-1, len(d)*p/100)]
}

// procUsage reads a process's CPU time (user+system) and resident memory.
type procUsage struct {
	cpu      time.Duration
	rss, hwm uint64 // bytes
}

func readUsage(t *testing.T, pid int) procUsage {
	t.Helper()
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+2:]))
	ut, _ := strconv.ParseUint(f[11], 10, 64)
	st, _ := strconv.ParseUint(f[12], 10, 64)
	u := procUsage{cpu: time.Duration(ut+st) * 10 * time.Millisecond} // USER_HZ is 100 on Linux
	status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for line := range strings.SplitSeq(string(status), "\n") {
		k, v, _ := strings.Cut(line, ":")
		kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmRSS":
			u.rss = kb << 10
		case "VmHWM":
			u.hwm = kb << 10
		}
	}
	return u
}

func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// TestWatchBenchScale runs the real ctld (netlink when root) with 1000
// WatchProcesses subscribers over four mTLS connections while 100 processes
// per second start and exit for 10 s; then again with one more subscriber
// that never reads; then the idle cost of one subscriber without churn.
func TestWatchBenchScale(t *testing.T) {
	benchWatch(t)
	_, ctld := binaries(t)
	state, addr := t.TempDir(), freeLoopbackAddr(t)
	cfgPath := filepath.Join(t.TempDir(), "ctld.yaml")
	if err := os.WriteFile(cfgPath, []byte("limits:\n  streams_per_identity: 4096\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	idleDur := 60 * time.Second
	if v := os.Getenv("REMOTECTL_BENCH_IDLE"); v != "" {
		idleDur, _ = time.ParseDuration(v)
	}
	churnFor := 10 * time.Second

	var stop func()
	var pid int
	var a *agentUnderTest
	for _, stalled := range []bool{false, true} {
		// A fresh daemon per round, so one round's memory does not carry over.
		if stop != nil {
			stop()
		}
		stop, pid = runCtld(t, ctld, state, addr, "--config", cfgPath)
		a = &agentUnderTest{addr: addr, certs: pki.DevPaths(defaults.CertsDir(state))}
		ctx, cancel := context.WithCancel(context.Background())
		subs := openSubscribers(ctx, t, a, 1000, 4)
		var stalledW *client.ProcessWatch
		if stalled {
			// A stream that is not read until the end: its flow-control
			// window fills, the daemon's Send blocks, its queue overflows.
			var err error
			// A fixed 64 KiB window (no BDP growth), as a stuck client has.
			stuck := a.client(t, client.WithDialOptions(grpc.WithInitialWindowSize(64<<10), grpc.WithInitialConnWindowSize(64<<10)))
			if stalledW, err = stuck.WatchProcesses(ctx, &pb.WatchProcessesRequest{}); err != nil {
				t.Fatal(err)
			}
		}
		testutil.Window(time.Second) // warm-up
		before := readUsage(t, pid)
		start := time.Now()
		// Sample the daemon's memory while the churn runs.
		var samples []string
		sampled := make(chan struct{})
		go func() {
			defer close(sampled)
			every := testutil.NewPacer(2 * time.Second)
			defer every.Stop()
			for time.Since(start) < churnFor {
				every.Wait()
				samples = append(samples, mib(readUsage(t, pid).rss))
			}
		}()
		pids := churn(t, "true", nil, int(churnFor/(10*time.Millisecond)), 10*time.Millisecond)
		churned := time.Since(start)
		<-sampled
		// On a shared, overloaded machine ctld may get a fraction of a core:
		// wait long enough to tell slow from lost.
		testutil.Poll(120*time.Second, func() bool { n, _ := subs.complete(pids); return n == 1000 })
		wall := time.Since(start)
		after := readUsage(t, pid)
		n, resyncs := subs.complete(pids)
		t.Logf("FIGURE scale stalled=%v: %d/1000 subscribers got all %d events of %d processes started over %v, all delivered after %v (%d RESYNC among them); ctld CPU %v (%.0f%% of one core), RSS %s (peak %s; every 2 s: %s)",
			stalled, n, 2*len(pids), len(pids), churned.Round(time.Millisecond), wall.Round(time.Millisecond), resyncs, after.cpu-before.cpu,
			100*float64(after.cpu-before.cpu)/float64(wall), mib(after.rss), mib(after.hwm), strings.Join(samples, ", "))
		if n != 1000 {
			t.Errorf("stalled=%v: only %d of 1000 subscribers got every event; %s", stalled, n, subs.missing(pids))
		}
		if stalledW != nil {
			read, resynced := 0, false
			timeout := time.After(20 * time.Second)
		drain:
			for {
				select {
				case ev, ok := <-stalledW.Events():
					if !ok {
						break drain
					}
					read++
					if resynced = ev.GetType() == pb.ProcessEventType_PROCESS_EVENT_TYPE_RESYNC; resynced {
						break drain
					}
				case <-timeout:
					break drain
				}
			}
			// Whether it overflowed depends on how many events the round
			// produced against its queue and windows (about 2000 events);
			// the mechanism itself is tested in server/watch.
			t.Logf("FIGURE the stalled subscriber, read at last: RESYNC=%v after %d events", resynced, read)
		}
		cancel()
		subs.wg.Wait()
		for _, c := range subs.clients {
			_ = c.Close()
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w, err := a.client(t).WatchProcesses(ctx, &pb.WatchProcessesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	// The host is not idle (other work forks and execs): count its events.
	var hostEvents atomic.Int64
	go func() {
		for range w.Events() {
			hostEvents.Add(1)
		}
	}()
	testutil.Window(2 * time.Second) // warm-up
	before, events := readUsage(t, pid), hostEvents.Load()
	testutil.Window(idleDur)
	after := readUsage(t, pid)
	t.Logf("FIGURE idle: ctld CPU %v over %v with 1 subscriber (%.3f%% of one core), RSS %s; the host started or ended %d processes meanwhile",
		after.cpu-before.cpu, idleDur, 100*float64(after.cpu-before.cpu)/float64(idleDur), mib(after.rss), hostEvents.Load()-events)
}
