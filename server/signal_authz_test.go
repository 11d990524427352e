package server

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/remotectl/remotectl/internal/errdefs"
	"github.com/remotectl/remotectl/internal/pki"
	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
	"github.com/remotectl/remotectl/server/audit"
	"github.com/remotectl/remotectl/server/authz"
	"github.com/remotectl/remotectl/server/process"
	"github.com/remotectl/remotectl/server/service"
)

// pidLister lists a fixed process table, honouring the PID filter.
type pidLister struct{ procs []process.Process }

func (l pidLister) List(_ context.Context, o process.ListOptions) ([]process.Process, error) {
	var out []process.Process
	for _, p := range l.procs {
		for _, pid := range o.Filter.PIDs {
			if p.PID == pid {
				out = append(out, p)
			}
		}
	}
	return out, nil
}

func (l pidLister) Count(context.Context) (int, error) { return len(l.procs), nil }

// servicesWithPIDs is a Manager whose List reports main pids (or fails).
type servicesWithPIDs struct {
	stubManager
	svcs []service.Service
	err  error
}

func (m *servicesWithPIDs) List(context.Context, service.Filter) ([]service.Service, error) {
	return m.svcs, m.err
}

const signalMethod = "/remotectl.v1.ProcessService/SignalProcess"

type signalGuardFixture struct {
	g      *guard
	audit  *bytes.Buffer
	mu     sync.Mutex
	called []int32
}

func newSignalGuard(t *testing.T, svcErr error) *signalGuardFixture {
	t.Helper()
	start := time.Unix(1700000000, 0)
	procs := pidLister{procs: []process.Process{
		{PID: 1, Name: "systemd", StartTime: start},
		{PID: 2, Name: "kthreadd", StartTime: start},
		{PID: 50, Name: "ctld", StartTime: start},
		{PID: 51, Name: "runner", StartTime: start},
		{PID: 77, Name: "sshd", StartTime: start},
		{PID: 78, Name: "web", StartTime: start},
		{PID: 80, Name: "secretd-main", StartTime: start},
		{PID: 81, Name: "bash", StartTime: start, User: "olga", Args: []string{"bash", "-l"}},
		{PID: 82, Name: "sleep", StartTime: start, User: "root", Args: []string{"sleep", strings.Repeat("9", 400)}},
	}}
	policy, err := authz.New(authz.Config{
		Bindings: []authz.Binding{
			{OU: "viewers", Role: authz.RoleViewer},
			{OU: "operators", Role: authz.RoleOperator},
			{OU: "admins", Role: authz.RoleAdmin},
		},
		ProtectedProcesses: []string{"secretd*"},
		RoleProcessAllow:   map[string][]string{authz.RoleOperator: {"sleep*", "web"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	f := &signalGuardFixture{audit: &bytes.Buffer{}}
	mgr := &servicesWithPIDs{svcs: []service.Service{{Name: "ssh.service", MainPID: 77}, {Name: "web.service", MainPID: 78}}, err: svcErr}
	f.g = newGuard(policy, audit.NewSink(f.audit, "test", nil), mgr, Limits{MutationsPerSecond: 1000, MutationBurst: 1000}, zerolog.Nop())
	f.g.procs = procs
	f.g.protect = process.Protection{Self: 50, Parent: 51, KernelThread: func(pid int32) bool { return pid == 2 }}
	return f
}

func (f *signalGuardFixture) call(ou string, pid int32, start time.Time) error {
	ctx := context.WithValue(context.Background(), identityKey{}, newCaller(pki.Identity{CommonName: "u-" + ou, OrganizationalUnits: []string{ou}}))
	req := &pb.SignalProcessRequest{Pid: pid, StartTime: timestamppb.New(start)}
	_, err := f.g.unary()(ctx, req, &grpc.UnaryServerInfo{FullMethod: signalMethod}, func(context.Context, any) (any, error) {
		f.mu.Lock()
		f.called = append(f.called, pid)
		f.mu.Unlock()
		return &pb.SignalProcessResponse{Exited: true, ExitSignalNumber: ptrTo(int32(15))}, nil
	})
	return err
}

func ptrTo[T any](v T) *T { return &v }

type signalAuditLine struct {
	Event, Identity, Target, Outcome, Message, Permission string
	StateAfter                                            string `json:"state_after"`
	ProcessName                                           string `json:"process_name"`
	ProcessUser                                           string `json:"process_user"`
	ProcessArgs                                           string `json:"process_args"`
	ProcessStart                                          string `json:"process_start"`
}

func (f *signalGuardFixture) records(t *testing.T) []signalAuditLine {
	t.Helper()
	var out []signalAuditLine
	for _, l := range strings.Split(strings.TrimSpace(f.audit.String()), "\n") {
		var r signalAuditLine
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("audit line %q: %v", l, err)
		}
		out = append(out, r)
	}
	f.audit.Reset()
	return out
}

func TestSignalProcessRefusalRules(t *testing.T) {
	start := time.Unix(1700000000, 0)
	cases := []struct {
		name string
		ou   string
		pid  int32
		at   time.Time
		code codes.Code
		want string // in the message
	}{
		{"init", "admins", 1, start, codes.PermissionDenied, "pid 1 (init)"},
		{"kernel thread", "admins", 2, start, codes.PermissionDenied, "kernel thread"},
		{"ctld itself", "admins", 50, start, codes.PermissionDenied, "ctld itself"},
		{"ctld's parent", "admins", 51, start, codes.PermissionDenied, "ctld's parent"},
		{"protected service main pid", "admins", 77, start, codes.PermissionDenied, `main process of service "ssh.service" (rule protected_services "ssh`},
		{"protected_processes glob", "admins", 80, start, codes.PermissionDenied, `rule protected_processes "secretd*"`},
		{"role_process_allow", "operators", 81, start, codes.PermissionDenied, "role_process_allow"},
		{"viewer lacks processes.control", "viewers", 82, start, codes.PermissionDenied, "missing permission processes.control"},
		{"stale identity (pid reused)", "admins", 82, start.Add(-time.Hour), codes.NotFound, `pid 82 now names "sleep"`},
		{"gone", "admins", 99, start, codes.NotFound, "is gone"},
	}
	f := newSignalGuard(t, nil)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := f.call(c.ou, c.pid, c.at)
			if status.Code(err) != c.code || !strings.Contains(status.Convert(err).Message(), c.want) {
				t.Fatalf("%v; want %v mentioning %q", err, c.code, c.want)
			}
			recs := f.records(t)
			if len(recs) != 1 {
				t.Fatalf("want one audit record, got %+v", recs)
			}
			r := recs[0]
			wantEvent := map[codes.Code]string{codes.PermissionDenied: "denied", codes.NotFound: "result"}[c.code]
			if r.Event != wantEvent || r.Outcome != c.code.String() || r.Target != "pid "+itoa(c.pid) || !strings.Contains(r.Message, c.want) {
				t.Errorf("audit %+v", r)
			}
			// Callers without the permission learn nothing of the target: no lookup.
			if c.code == codes.PermissionDenied && c.ou != "viewers" && (r.ProcessName == "" || r.ProcessStart == "") {
				t.Errorf("denial audit lacks the target's identity: %+v", r)
			}
		})
	}
	if len(f.called) != 0 {
		t.Fatalf("handler ran for refused calls: %v", f.called)
	}
}

func itoa(n int32) string { return strconv.Itoa(int(n)) }

func TestSignalProcessAllowedIsAuditedWithTheTarget(t *testing.T) {
	start := time.Unix(1700000000, 0)
	f := newSignalGuard(t, nil)
	for _, c := range []struct {
		ou  string
		pid int32
	}{{"operators", 82}, {"operators", 78}, {"admins", 81}} {
		if err := f.call(c.ou, c.pid, start); err != nil {
			t.Fatalf("%s pid %d: %v", c.ou, c.pid, err)
		}
		recs := f.records(t)
		if len(recs) != 2 || recs[0].Event != "intent" || recs[1].Event != "result" || recs[1].Outcome != "OK" {
			t.Fatalf("want intent and result, got %+v", recs)
		}
		for _, r := range recs {
			if r.Target != "pid "+itoa(c.pid) || r.ProcessName == "" || r.ProcessStart != "2023-11-14T22:13:20Z" {
				t.Errorf("record %+v lacks the target", r)
			}
		}
		if recs[1].StateAfter != "exited: signal 15" {
			t.Errorf("result state_after %q", recs[1].StateAfter)
		}
		if c.pid == 82 && (recs[0].ProcessUser != "root" || len(recs[0].ProcessArgs) > maxAuditArgs+3 || !strings.HasPrefix(recs[0].ProcessArgs, "sleep 999")) {
			t.Errorf("argv summary %q (user %q)", recs[0].ProcessArgs, recs[0].ProcessUser)
		}
	}
	if len(f.called) != 3 {
		t.Fatalf("handler calls %v", f.called)
	}
}

// The protected-service check fails closed, except where the host has no
// service manager at all.
func TestSignalProcessServiceBackendFailure(t *testing.T) {
	start := time.Unix(1700000000, 0)
	if err := newSignalGuard(t, errdefs.ErrInternal).call("admins", 82, start); status.Code(err) != codes.Unavailable ||
		!strings.Contains(err.Error(), "cannot check the protected services") {
		t.Errorf("backend failure: %v; want UNAVAILABLE", err)
	}
	if err := newSignalGuard(t, errdefs.ErrUnavailable).call("admins", 82, start); err != nil {
		t.Errorf("no service manager: %v; want allowed", err)
	}
}

func TestSignalProcessMalformedSkipsLookup(t *testing.T) {
	f := newSignalGuard(t, nil)
	ctx := context.WithValue(context.Background(), identityKey{}, newCaller(pki.Identity{CommonName: "a", OrganizationalUnits: []string{"admins"}}))
	_, err := f.g.unary()(ctx, &pb.SignalProcessRequest{Pid: 82}, &grpc.UnaryServerInfo{FullMethod: signalMethod},
		func(context.Context, any) (any, error) {
			return nil, status.Error(codes.InvalidArgument, "start time required")
		})
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("%v", err)
	}
	if recs := f.records(t); len(recs) != 1 || recs[0].Event != "result" || recs[0].Outcome != "InvalidArgument" {
		t.Fatalf("audit %+v", recs)
	}
}
