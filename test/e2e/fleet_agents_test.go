package e2e

import (
	"context"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/remotectl/remotectl/internal/errdefs"
	"github.com/remotectl/remotectl/internal/pki"
	"github.com/remotectl/remotectl/internal/testutil"
	"github.com/remotectl/remotectl/server"
	"github.com/remotectl/remotectl/server/agent"
	"github.com/remotectl/remotectl/server/process"
	"github.com/remotectl/remotectl/server/service"
	"github.com/remotectl/remotectl/server/watch"
)

// stubAgent is a real agent server (gRPC, mutual TLS, authorization,
// limits) on a loopback port over stub backends, so one test process can
// host a thousand of them.
type stubAgent struct {
	addr    string
	watcher *burstWatcher
}

// stubFleet starts n stub agents sharing one PKI; the first slow ones
// answer every write late by delay.
func stubFleet(tb testing.TB, paths pki.Paths, n, slow int, delay time.Duration) []*stubAgent {
	tb.Helper()
	tlsCfg, err := pki.ServerTLSConfig(paths.CACert, paths.ServerCert, paths.ServerKey)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	agents := make([]*stubAgent, n)
	var stops []func()
	for i := range agents {
		w := &burstWatcher{subscribed: make(chan struct{}, 16)}
		srv, err := server.New(server.Config{
			TLS: tlsCfg, Logger: zerolog.New(io.Discard),
			Processes: stubLister{}, Services: stubServices{}, Watcher: w,
			Reporter: agent.NewReporter(ctx, stubLister{}.Count, nil),
		})
		if err != nil {
			tb.Fatal(err)
		}
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		agents[i] = &stubAgent{addr: lis.Addr().String(), watcher: w}
		if i < slow {
			lis = slowListener{lis, delay}
		}
		served := make(chan error, 1)
		go func() { served <- srv.Serve(lis) }()
		stops = append(stops, func() {
			sctx, scancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer scancel()
			srv.Shutdown(sctx)
			<-served
		})
	}
	tb.Cleanup(func() {
		var wg sync.WaitGroup
		for _, s := range stops {
			wg.Go(s)
		}
		wg.Wait()
		cancel()
	})
	return agents
}

// slowListener delays every write of its connections: a far or busy agent.
type slowListener struct {
	net.Listener
	delay time.Duration
}

func (l slowListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return slowConn{c, l.delay}, nil
}

type slowConn struct {
	net.Conn
	delay time.Duration
}

func (c slowConn) Write(p []byte) (int, error) {
	testutil.Window(c.delay) // simulated latency, not a wait for an event
	return c.Conn.Write(p)
}

type stubLister struct{}

func (stubLister) List(context.Context, process.ListOptions) ([]process.Process, error) {
	return []process.Process{{PID: 1, Name: "init", User: "root"}, {PID: 42, PPID: 1, Name: "worker", User: "app"}}, nil
}
func (stubLister) Count(context.Context) (int, error) { return 2, nil }

type stubServices struct{}

func (stubServices) Status(context.Context) service.BackendStatus {
	return service.BackendStatus{Kind: "none", Available: false, Reason: "stub"}
}
func (stubServices) List(context.Context, service.Filter) ([]service.Service, error) { return nil, nil }
func (stubServices) Get(context.Context, string) (service.Service, error) {
	return service.Service{}, errdefs.ErrNotFound
}
func (stubServices) Start(context.Context, string, service.ControlOptions) (service.Result, error) {
	return service.Result{}, errdefs.ErrNotSupported
}
func (stubServices) Stop(context.Context, string, service.ControlOptions) (service.Result, error) {
	return service.Result{}, errdefs.ErrNotSupported
}
func (stubServices) Restart(context.Context, string, service.ControlOptions) (service.Result, error) {
	return service.Result{}, errdefs.ErrNotSupported
}
func (stubServices) Close() error { return nil }

// burstWatcher is a process watcher whose events the test injects: each
// subscription gets every event of burst.
type burstWatcher struct {
	mu         sync.Mutex
	subs       []*burstSub
	seq        atomic.Uint64
	subscribed chan struct{}
}

type burstSub struct {
	ch    chan watch.Event
	start uint64
}

func (w *burstWatcher) Mode() string { return "stub" }

func (w *burstWatcher) Watch(context.Context, watch.Options) (watch.Subscription, error) {
	s := &burstSub{ch: make(chan watch.Event, 4096), start: w.seq.Load()}
	w.mu.Lock()
	w.subs = append(w.subs, s)
	w.mu.Unlock()
	w.subscribed <- struct{}{}
	return s, nil
}

// burst publishes n STARTED events to every subscriber.
func (w *burstWatcher) burst(n int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i := range n {
		ev := watch.Event{Seq: w.seq.Add(1), Time: time.Now(), Type: watch.EventStarted,
			Process: process.Process{PID: int32(1000 + i), PPID: 1, Name: "burst"}}
		for _, s := range w.subs {
			s.ch <- ev
		}
	}
}

func (s *burstSub) Next(ctx context.Context) (watch.Event, error) {
	select {
	case ev := <-s.ch:
		return ev, nil
	case <-ctx.Done():
		return watch.Event{}, ctx.Err()
	}
}
func (s *burstSub) Start() uint64 { return s.start }
func (s *burstSub) Close()        {}
