package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"net"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/remotectl/remotectl/internal/pki"
	"github.com/remotectl/remotectl/server"
	"github.com/remotectl/remotectl/server/agent"
	"github.com/remotectl/remotectl/server/process"
	"github.com/remotectl/remotectl/server/service"
	"github.com/remotectl/remotectl/server/watch/watchtest"
)

// fleetAgent is one real agent (mutual TLS on loopback) that a test can
// stop and start again on the same address, like a killed and restarted ctld.
type fleetAgent struct {
	t     *testing.T
	p     *testPKI
	addr  string
	tls   *tls.Config
	stopf func()
}

func startFleetAgents(t *testing.T, p *testPKI, n int) []*fleetAgent {
	t.Helper()
	tlsCfg, err := pki.ServerTLSConfig(p.CACert, p.ServerCert, p.ServerKey)
	if err != nil {
		t.Fatal(err)
	}
	agents := make([]*fleetAgent, n)
	for i := range agents {
		agents[i] = &fleetAgent{t: t, p: p, addr: "127.0.0.1:0", tls: tlsCfg}
		agents[i].start()
		t.Cleanup(agents[i].stop)
	}
	return agents
}

// start serves the real process and service backends.
func (f *fleetAgent) start() {
	t := f.t
	t.Helper()
	lis, err := net.Listen("tcp", f.addr)
	if err != nil {
		t.Fatal(err)
	}
	f.addr = lis.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	lister := process.NewLister()
	svcs := service.NewManager()
	srv, err := server.New(server.Config{
		TLS: f.tls, Logger: zerolog.Nop(), Processes: lister, Services: svcs,
		Watcher:  watchtest.Poll(t, lister, 200*time.Millisecond),
		Reporter: agent.NewReporter(ctx, lister.Count, nil),
	})
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	f.stopf = func() {
		sctx, scancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer scancel()
		srv.Shutdown(sctx)
		cancel()
		<-served
		_ = svcs.Close()
	}
}

// stop kills the agent (idempotent).
func (f *fleetAgent) stop() {
	if f.stopf != nil {
		f.stopf()
		f.stopf = nil
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
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	l := &liveCtl{lines: make(chan []byte, 1024), done: make(chan int, 1), stderr: &syncBuffer{}, cancel: cancel}
	a := newApp(pw, l.stderr, envOf(map[string]string{"CTLD_STATE_DIR": t.TempDir()}))
	go func() {
		l.done <- a.run(ctx, args)
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
