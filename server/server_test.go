package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/remotectl/remotectl/client"
	"github.com/remotectl/remotectl/internal/errdefs"
	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
	"github.com/remotectl/remotectl/server/agent"
	"github.com/remotectl/remotectl/server/process"
	"github.com/remotectl/remotectl/server/service"
	"github.com/remotectl/remotectl/server/watch/watchtest"
)

// stubLister returns fixed processes or a fixed error; panicOn makes List
// panic. Like every Lister it is safe for concurrent use: the watch engine
// lists from its own goroutine while handlers list too.
type stubLister struct {
	procs []process.Process
	err   error

	mu      sync.Mutex
	panicOn bool
	got     process.ListOptions
}

func (s *stubLister) List(_ context.Context, o process.ListOptions) ([]process.Process, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.panicOn {
		panic("boom")
	}
	s.got = o
	return s.procs, s.err
}

func (s *stubLister) setPanic(on bool) {
	s.mu.Lock()
	s.panicOn = on
	s.mu.Unlock()
}

func (s *stubLister) lastOptions() process.ListOptions {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.got
}

func (s *stubLister) Count(context.Context) (int, error) { return len(s.procs), nil }

// stubManager answers every call with err (or a canned result).
type stubManager struct {
	err  error
	last string
}

func (m *stubManager) Status(context.Context) service.BackendStatus {
	return service.BackendStatus{Kind: "stub", Available: m.err == nil}
}

func (m *stubManager) List(context.Context, service.Filter) ([]service.Service, error) {
	return []service.Service{{Name: "a.service", State: service.StateRunning}}, m.err
}

func (m *stubManager) Get(_ context.Context, name string) (service.Service, error) {
	m.last = name
	return service.Service{Name: name, State: service.StateStopped}, m.err
}

func (m *stubManager) control(name string, o service.ControlOptions) (service.Result, error) {
	m.last = fmt.Sprintf("%s/%v", name, o.Timeout)
	if o.StopDependents {
		m.last += "+dependents"
	}
	if m.err != nil {
		return service.Result{}, m.err
	}
	return service.Result{Service: service.Service{Name: name, State: service.StateRunning}, PreviousState: service.StateStopped, Changed: true}, nil
}

func (m *stubManager) Start(_ context.Context, n string, o service.ControlOptions) (service.Result, error) {
	return m.control(n, o)
}

func (m *stubManager) Stop(_ context.Context, n string, o service.ControlOptions) (service.Result, error) {
	return m.control(n, o)
}

func (m *stubManager) Restart(_ context.Context, n string, o service.ControlOptions) (service.Result, error) {
	return m.control(n, o)
}
func (m *stubManager) Close() error { return nil }

// startBufconn serves cfg over an in-memory connection and returns a client.
func startBufconn(t *testing.T, cfg Config) *client.Client {
	t.Helper()
	c, _ := startBufconnServer(t, cfg)
	return c
}

func startBufconnServer(t *testing.T, cfg Config) (*client.Client, *Server) {
	t.Helper()
	cfg.Insecure = true // bufconn has no TLS; authentication is covered by the e2e tests
	if cfg.Reporter == nil {
		cfg.Reporter = agent.NewReporter(context.Background(), nil, nil)
	}
	if cfg.Watcher == nil {
		cfg.Watcher = watchtest.Poll(t, cfg.Processes, 10*time.Millisecond)
	}
	cfg.Logger = zerolog.Nop()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	lis := bufconn.Listen(1 << 20)
	go func() { _ = s.grpc.Serve(lis) }()
	t.Cleanup(func() { s.Shutdown(context.Background()) })
	conn, err := grpc.NewClient("passthrough:///bufconn",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return client.NewWithConn(conn), s
}

func TestServiceErrorsMapToCodesAndBack(t *testing.T) {
	cases := []struct {
		domain   error
		code     codes.Code
		sentinel error
	}{
		{fmt.Errorf("%w: unit x", errdefs.ErrNotFound), codes.NotFound, client.ErrNotFound},
		{fmt.Errorf("%w: access denied", errdefs.ErrPermissionDenied), codes.PermissionDenied, client.ErrPermissionDenied},
		{fmt.Errorf("%w: unit masked", errdefs.ErrFailedPrecondition), codes.FailedPrecondition, client.ErrFailedPrecondition},
		{fmt.Errorf("%w: no systemd", errdefs.ErrUnavailable), codes.Unavailable, client.ErrUnavailable},
		{fmt.Errorf("%w: on plan9", errdefs.ErrNotSupported), codes.Unimplemented, client.ErrNotSupported},
		{fmt.Errorf("%w: still stopping", errdefs.ErrDeadlineExceeded), codes.DeadlineExceeded, client.ErrDeadlineExceeded},
		{errors.New("something odd"), codes.Unknown, nil},
	}
	for _, tc := range cases {
		t.Run(tc.code.String(), func(t *testing.T) {
			c := startBufconn(t, Config{Processes: &stubLister{}, Services: &stubManager{err: tc.domain}})
			_, err := c.StopService(context.Background(), "x", 0)
			if got := status.Code(err); got != tc.code {
				t.Fatalf("code = %v, want %v (err %v)", got, tc.code, err)
			}
			if tc.sentinel != nil && !errors.Is(err, tc.sentinel) {
				t.Fatalf("errors.Is(%v, %v) = false", err, tc.sentinel)
			}
			if st, _ := status.FromError(err); st.Message() != tc.domain.Error() {
				t.Fatalf("message = %q, want the domain's %q", st.Message(), tc.domain.Error())
			}
		})
	}
}

func TestServiceRequestValidation(t *testing.T) {
	mgr := &stubManager{}
	c := startBufconn(t, Config{Processes: &stubLister{}, Services: mgr})
	ctx := context.Background()
	for _, name := range []string{"", "a/b", string(make([]byte, 300))} {
		if _, err := c.StartService(ctx, name, 0); !errors.Is(err, client.ErrInvalidArgument) {
			t.Errorf("StartService(%q) err = %v, want invalid argument", name, err)
		}
	}
	if mgr.last != "" {
		t.Fatalf("the domain was called with %q despite invalid input", mgr.last)
	}
	// Timeouts: default when absent, rejected when negative or above the maximum.
	if _, err := c.StartService(ctx, "nginx", 0); err != nil || mgr.last != "nginx/30s" {
		t.Fatalf("default timeout: err %v, domain saw %q", err, mgr.last)
	}
	raw := pb.NewServiceManagerClient(c.Conn())
	for _, d := range []time.Duration{-time.Second, service.MaxTimeout + time.Second} {
		_, err := raw.StopService(ctx, &pb.StopServiceRequest{Name: "nginx", Timeout: durationpb.New(d)})
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("timeout %v: code %v, want InvalidArgument", d, status.Code(err))
		}
	}
	res, err := c.RestartService(ctx, "nginx", 5*time.Second)
	if err != nil || !res.Changed || res.PreviousState != pb.ServiceState_SERVICE_STATE_STOPPED ||
		res.Service.GetState() != pb.ServiceState_SERVICE_STATE_RUNNING || mgr.last != "nginx/5s" {
		t.Fatalf("restart = %+v, %v (domain saw %q)", res, err, mgr.last)
	}
	// stop_dependents reaches the domain for Stop and Restart.
	if _, err := c.StopService(ctx, "nginx", 5*time.Second, client.WithDependents()); err != nil || mgr.last != "nginx/5s+dependents" {
		t.Fatalf("stop with dependents: err %v, domain saw %q", err, mgr.last)
	}
	if _, err := c.RestartService(ctx, "nginx", 5*time.Second, client.WithDependents()); err != nil || mgr.last != "nginx/5s+dependents" {
		t.Fatalf("restart with dependents: err %v, domain saw %q", err, mgr.last)
	}
	if _, err := c.StopService(ctx, "nginx", 5*time.Second); err != nil || mgr.last != "nginx/5s" {
		t.Fatalf("plain stop: err %v, domain saw %q", err, mgr.last)
	}
	if _, err := c.ListServices(ctx, &pb.ListServicesRequest{NameGlob: "[bad"}); !errors.Is(err, client.ErrInvalidArgument) {
		t.Errorf("bad glob: %v", err)
	}
	if _, err := c.ListServices(ctx, &pb.ListServicesRequest{States: []pb.ServiceState{99}}); !errors.Is(err, client.ErrInvalidArgument) {
		t.Errorf("bad state: %v", err)
	}
}

func TestListProcessesValidationAndConversion(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	l := &stubLister{procs: []process.Process{
		{PID: 1, PPID: 0, StartTime: start, Name: "init", User: "root", UID: 0, RSS: 10, Threads: 1},
		{PID: 2, PPID: 1, StartTime: start, Name: "kworker", Unavailable: process.FieldExe, UID: -1},
		{PID: 3, PPID: 1, StartTime: start, Name: "x"},
	}}
	c := startBufconn(t, Config{Processes: l, Services: &stubManager{}})
	ctx := context.Background()
	resp, err := c.ListProcesses(ctx, &pb.ListProcessesRequest{Limit: 2, Fields: []pb.ProcessField{pb.ProcessField_PROCESS_FIELD_NAME, pb.ProcessField_PROCESS_FIELD_EXE}})
	if err != nil {
		t.Fatal(err)
	}
	if got := l.lastOptions().Fields; got != process.FieldName|process.FieldExe {
		t.Fatalf("domain fields = %b", got)
	}
	if len(resp.Processes) != 2 || resp.TotalMatched != 3 {
		t.Fatalf("got %d processes, total %d; want 2 of 3", len(resp.Processes), resp.TotalMatched)
	}
	p := resp.Processes[0]
	if p.Name != "init" || p.User != "" || p.ResidentMemoryBytes != 0 || !p.StartTime.AsTime().Equal(start) {
		t.Fatalf("unselected fields leaked or identity wrong: %v", p)
	}
	if got := resp.Processes[1].UnavailableFields; len(got) != 1 || got[0] != pb.ProcessField_PROCESS_FIELD_EXE {
		t.Fatalf("unavailable = %v", got)
	}
	bad := []*pb.ListProcessesRequest{
		{Limit: process.MaxLimit + 1},
		{Sort: 42},
		{Fields: []pb.ProcessField{77}},
		{Filter: &pb.ProcessFilter{NameGlob: "[x"}},
		{Filter: &pb.ProcessFilter{Pids: []int32{-4}}},
	}
	for _, req := range bad {
		if _, err := c.ListProcesses(ctx, req); !errors.Is(err, client.ErrInvalidArgument) {
			t.Errorf("%v: err %v, want invalid argument", req, err)
		}
	}
}

func TestPanicBecomesInternalAndServerSurvives(t *testing.T) {
	l := &stubLister{panicOn: true}
	c := startBufconn(t, Config{Processes: l, Services: &stubManager{}})
	_, err := c.ListProcesses(context.Background(), nil)
	if status.Code(err) != codes.Internal || !errors.Is(err, client.ErrInternal) {
		t.Fatalf("panic: err %v, want INTERNAL", err)
	}
	l.setPanic(false)
	if _, err := c.ListProcesses(context.Background(), nil); err != nil {
		t.Fatalf("server did not survive the panic: %v", err)
	}
}

func TestHealthReflectsServiceBackend(t *testing.T) {
	c := startBufconn(t, Config{Processes: &stubLister{}, Services: &stubManager{err: errdefs.ErrUnavailable}})
	ctx := context.Background()
	for svc, want := range map[string]healthpb.HealthCheckResponse_ServingStatus{
		"":                            healthpb.HealthCheckResponse_SERVING,
		"remotectl.v1.ProcessService": healthpb.HealthCheckResponse_SERVING,
		"remotectl.v1.ServiceManager": healthpb.HealthCheckResponse_NOT_SERVING,
	} {
		got, err := c.Health(ctx, svc)
		if err != nil || got != want {
			t.Errorf("health %q = %v, %v; want %v", svc, got, err, want)
		}
	}
}

func TestHeartbeatOverBufconn(t *testing.T) {
	l := &stubLister{procs: make([]process.Process, 7)}
	rep := agent.NewReporter(context.Background(), l.Count, func(context.Context) []agent.Backend {
		return []agent.Backend{{Capability: "services", Implementation: "stub", Available: true}}
	})
	c := startBufconn(t, Config{Processes: l, Services: &stubManager{}, Reporter: rep})
	hb, err := c.Heartbeat(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if hb.ProcessCount != 7 || hb.Os == "" || hb.CpuCount == 0 || hb.MemoryTotalBytes == 0 ||
		len(hb.Backends) != 1 || hb.ServerTime == nil || hb.AgentStartTime == nil {
		t.Fatalf("heartbeat incomplete: %v", hb)
	}
}

func TestInsecureRefusesNonLoopback(t *testing.T) {
	s, err := New(Config{Insecure: true, Processes: &stubLister{}, Services: &stubManager{},
		Watcher: watchtest.Poll(t, nil, 0), Reporter: agent.NewReporter(context.Background(), nil, nil), Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	lis, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	if err := s.Serve(lis); err == nil {
		t.Fatal("insecure server served on a non-loopback listener")
	}
	if _, err := New(Config{Processes: &stubLister{}, Services: &stubManager{}, Watcher: watchtest.Poll(t, nil, 0),
		Reporter: agent.NewReporter(context.Background(), nil, nil)}); err == nil {
		t.Fatal("New accepted a config with neither TLS nor insecure mode")
	}
}

func TestShutdownEndsWatchStreamsWithAReason(t *testing.T) {
	c, srv := startBufconnServer(t, Config{
		Processes: &stubLister{procs: []process.Process{{PID: 1, StartTime: time.Unix(1, 0)}}},
		Services:  &stubManager{},
	})
	w, err := c.WatchProcesses(context.Background(), &pb.WatchProcessesRequest{IncludeExisting: true})
	if err != nil {
		t.Fatal(err)
	}
	for ev := range w.Events() { // EXISTING, SYNCED: the stream is live
		if ev.Type == pb.ProcessEventType_PROCESS_EVENT_TYPE_SYNCED {
			break
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	srv.Shutdown(ctx)
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("shutdown with an open watch took %v: it waited for the drain deadline", d)
	}
	for range w.Events() {
	}
	if !errors.Is(w.Err(), client.ErrUnavailable) || !strings.Contains(w.Err().Error(), "shutting down") {
		t.Fatalf("watch ended with %v, want UNAVAILABLE saying the agent is shutting down", w.Err())
	}
}
