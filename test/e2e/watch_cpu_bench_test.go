package e2e

import (
	"context"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/remotectl/remotectl/internal/testutil"
)

// TestWatchBenchCPU measures ctld's CPU (utime+stime, so less sensitive to
// a loaded host than wall time) with one unfiltered `ctl ps watch` while the
// test starts 20 processes a second (the host may start more: the figure is
// per process the watch saw start, and scaled to 20 processes/s). With
// REMOTECTL_BENCH_BASE_CTLD=/path/to/ctld (e.g. built from main) a baseline
// ctld runs side by side under the same churn and the ratio is reported.
//
//	REMOTECTL_BENCH_WATCH_CPU=20s REMOTECTL_BENCH_BASE_CTLD=/tmp/base/ctld \
//	  go test -count=1 -v -run '^TestWatchBenchCPU$' ./test/e2e/ | grep FIGURE
func TestWatchBenchCPU(t *testing.T) {
	measure, err := time.ParseDuration(os.Getenv("REMOTECTL_BENCH_WATCH_CPU"))
	if err != nil {
		t.Skip("ctld CPU per started process: set REMOTECTL_BENCH_WATCH_CPU=20s (not in CI)")
	}
	if os.Geteuid() != 0 {
		t.Skip("the netlink connector needs root")
	}
	ctl, ctld := binaries(t)
	type agent struct {
		name  string
		pid   int
		lines <-chan ctlLine
		cpu   time.Duration
	}
	start := func(name, bin string) *agent {
		state, addr := t.TempDir(), freeLoopbackAddr(t)
		stop, pid := runCtld(t, bin, state, addr)
		t.Cleanup(stop)
		lines, stopWatch := ctlStream(t, ctl, []string{"CTLD_STATE_DIR=" + state, "CTL_HOST=" + addr}, "ps", "watch", "-o", "json")
		t.Cleanup(stopWatch)
		return &agent{name: name, pid: pid, lines: lines}
	}
	agents := []*agent{start("this", ctld)}
	if base := os.Getenv("REMOTECTL_BENCH_BASE_CTLD"); base != "" {
		agents = append(agents, start("base", base))
	}

	defer churnTrue()()

	testutil.Window(3 * time.Second) // warm-up: connected, producer running
	for _, a := range agents {
		for len(a.lines) > 0 {
			<-a.lines
		}
		a.cpu = readUsage(t, a.pid).cpu
	}
	testutil.Window(measure)
	for _, a := range agents {
		a.cpu = readUsage(t, a.pid).cpu - a.cpu
	}
	started := 0
	for len(agents[0].lines) > 0 {
		if l := <-agents[0].lines; l.ev.Type == "STARTED" {
			started++
		}
	}
	for _, a := range agents {
		per := a.cpu / time.Duration(max(started, 1))
		t.Logf("FIGURE cpu one ps watch (%s ctld): %v over %v = %.2f%% of a core while the host started %d processes (%.0f/s): %v per process, %.2f%% of a core at 20 processes/s",
			a.name, a.cpu, measure, 100*float64(a.cpu)/float64(measure), started, float64(started)/measure.Seconds(), per.Round(time.Microsecond), 100*float64(20*per)/float64(time.Second))
	}
	if len(agents) == 2 && agents[1].cpu > 0 {
		t.Logf("FIGURE cpu ratio this/base: %.2f", float64(agents[0].cpu)/float64(agents[1].cpu))
	}
}

// churnTrue starts `true` 20 times a second until the returned stop.
func churnTrue() (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for ctx.Err() == nil {
			<-tick.C
			_ = exec.Command("true").Run()
		}
	})
	return func() { cancel(); wg.Wait() }
}
