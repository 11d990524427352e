package main

import (
	"bufio"
	"context"
	"io"
	"testing"
	"time"

	"github.com/remotectl/remotectl/test/agenttest"
)

// fleetAgent is one real agent (mutual TLS on loopback) that a test can
// stop and start again on the same address, like a killed and restarted ctld.
type fleetAgent struct {
	t     *testing.T
	p     *testPKI
	addr  string
	agent *agenttest.Agent
}

func startFleetAgents(t *testing.T, p *testPKI, n int) []*fleetAgent {
	t.Helper()
	agents := make([]*fleetAgent, n)
	for i := range agents {
		agents[i] = &fleetAgent{t: t, p: p}
		agents[i].start()
	}
	return agents
}

// start serves the real process and service backends (again on the
// same address after a stop).
func (f *fleetAgent) start() {
	f.t.Helper()
	f.agent = agenttest.Start(f.t, agenttest.WithPKI(f.p.shared()), agenttest.PollEvery(200*time.Millisecond), agenttest.Listen(f.addr))
	f.addr = f.agent.Addr
}

// stop kills the agent (idempotent).
func (f *fleetAgent) stop() {
	if f.agent != nil {
		f.agent.Stop()
		f.agent = nil
	}
}

func hostList(agents []*fleetAgent) string {
	s := ""
	for i, a := range agents {
		if i > 0 {
			s += ","
		}
		s += a.addr
	}
	return s
}

// liveCtl is a long-running ctl command (a watch) in this process: its
// stdout lines arrive on lines; cancel plays Ctrl-C.
type liveCtl struct {
	lines  chan []byte
	done   chan int
	stderr *syncBuffer
	cancel context.CancelFunc
}

func startLiveCtl(t *testing.T, args ...string) *liveCtl {
	t.Helper()
	pr, pw := io.Pipe()
	l := &liveCtl{lines: make(chan []byte, 1024), done: make(chan int, 1), stderr: &syncBuffer{}}
	code, cancel := goCtl(t, pw, l.stderr, args...)
	l.cancel = cancel
	go func() {
		l.done <- <-code
		_ = pw.Close()
	}()
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			l.lines <- append([]byte(nil), sc.Bytes()...)
		}
		close(l.lines)
	}()
	t.Cleanup(func() {
		cancel()
		for range l.lines { // drain so ctl can finish
		}
	})
	return l
}

// stop interrupts the command and returns its exit code.
func (l *liveCtl) stop() int {
	l.cancel()
	go func() {
		for range l.lines {
		}
	}()
	return <-l.done
}
