//go:build linux

package process

import (
	"context"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"
)

// benchChildren is how many sleeping children the benchmarks run against,
// so both readers see a realistically busy process table.
const benchChildren = 1000

var (
	benchOnce  sync.Once
	benchProcs []*os.Process
)

// spawnBenchChildren starts the children once for all benchmarks. They die
// with the test binary (Pdeathsig) and are killed explicitly in TestMain.
func spawnBenchChildren(b *testing.B) {
	benchOnce.Do(func() {
		for range benchChildren {
			cmd := exec.Command("sleep", "3600")
			cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
			if err := cmd.Start(); err != nil {
				b.Fatalf("spawning children: %v", err)
			}
			benchProcs = append(benchProcs, cmd.Process)
		}
	})
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, p := range benchProcs {
		p.Kill()
		p.Wait()
	}
	os.Exit(code)
}

func BenchmarkListAllFields(b *testing.B) {
	spawnBenchChildren(b)
	l := NewLister()
	ctx := context.Background()
	// As the daemon does at start-up: without a primed history the first
	// List waits out the CPU window, which is not what this measures.
	if err := l.Prime(ctx); err != nil {
		b.Fatal(err)
	}
	time.Sleep(DefaultCPUWindow)
	n := 0
	b.ReportAllocs()
	cpu0 := selfCPU()
	for b.Loop() {
		ps, err := l.List(ctx, ListOptions{Fields: FieldsAll})
		if err != nil {
			b.Fatal(err)
		}
		n = len(ps)
	}
	cpu := selfCPU() - cpu0
	b.ReportMetric(float64(n), "procs")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/proc")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
}

// selfCPU returns the user+system CPU time this process has used: the
// listing work is in the kernel, so wall time alone hides what it costs.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkPS(b *testing.B) {
	spawnBenchChildren(b)
	n := 0
	var cpu time.Duration
	for b.Loop() {
		cmd := exec.Command("ps", "-eo", "pid,ppid,user,stat,lstart,rss,vsz,nlwp,pcpu,args")
		out, err := cmd.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		data, err := io.ReadAll(out)
		if err != nil {
			b.Fatal(err)
		}
		if err := cmd.Wait(); err != nil {
			b.Fatal(err)
		}
		cpu += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		n = 0
		for _, c := range data {
			if c == '\n' {
				n++
			}
		}
		n-- // header
	}
	b.ReportMetric(float64(n), "procs")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
}
