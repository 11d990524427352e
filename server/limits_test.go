package server

import (
	"context"
	"crypto/tls"
	"net"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/remotectl/remotectl/internal/pki"
	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
	"github.com/remotectl/remotectl/server/authz"
)

func (a *tlsAgent) client(t *testing.T, cn string, opts ...pki.ClientOption) (pb.ServiceManagerClient, pb.ProcessServiceClient, pb.AgentServiceClient) {
	t.Helper()
	c, k, err := a.ca.IssueClient(cn, time.Hour, opts...)
	pair := keyPair(t, c, k, err)
	cc := a.conn(t, pair)
	return pb.NewServiceManagerClient(cc), pb.NewProcessServiceClient(cc), pb.NewAgentServiceClient(cc)
}

func lastAudit(t *testing.T, path string) auditLine {
	t.Helper()
	lines := readAudit(t, path)
	if len(lines) == 0 {
		t.Fatal("audit log is empty")
	}
	return lines[len(lines)-1]
}

func TestServiceRulesDenyWithReason(t *testing.T) {
	a := startTLSAgent(t, Limits{}, "")
	ctx := context.Background()
	op, _, _ := a.client(t, "olga", pki.WithOU("operators"))
	admin, _, _ := a.client(t, "adam", pki.WithURI("spiffe://remotectl.test/admin/adam"))
	cases := []struct {
		svc  pb.ServiceManagerClient
		name string
		want string
	}{
		{op, "sshd.service", `protected (rule protected_services "ssh`},
		{admin, "ssh.service", `protected (rule protected_services "ssh`},
		{admin, "CTLD", `protected (rule protected_services "ctld*")`},
		{admin, "dbus.service", "protected"},
		{op, "postgresql.service", "role_service_allow"},
	}
	for _, c := range cases {
		_, err := c.svc.StopService(ctx, &pb.StopServiceRequest{Name: c.name})
		if status.Code(err) != codes.PermissionDenied || !strings.Contains(status.Convert(err).Message(), c.want) {
			t.Errorf("stop %s: %v; want PermissionDenied mentioning %q", c.name, err, c.want)
		}
		if l := lastAudit(t, a.auditPath); l.Event != "denied" || l.Target != c.name || l.Outcome != "PermissionDenied" {
			t.Errorf("stop %s: audit %+v", c.name, l)
		}
	}
	// Restart counts as a stop; start of an allowed service is fine.
	if _, err := op.RestartService(ctx, &pb.RestartServiceRequest{Name: "sshd"}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("restart sshd: %v", err)
	}
	if _, err := op.StartService(ctx, &pb.StartServiceRequest{Name: "nginx.service"}); err != nil {
		t.Errorf("operator start nginx: %v", err)
	}
	if a.mgr.count() != 0 {
		t.Errorf("backend Stop called %d times for denied calls", a.mgr.count())
	}
}

func TestHostileRequestsGetInvalidArgument(t *testing.T) {
	a := startTLSAgent(t, Limits{MutationsPerSecond: 1000, MutationBurst: 1000}, "")
	ctx := context.Background()
	admin, procs, _ := a.client(t, "adam", pki.WithURI("spiffe://remotectl.test/admin/adam"))
	for _, name := range []string{"", "-rf", "../etc/passwd", "a/b", "bad\x00nul", "bad\nline", strings.Repeat("x", 257)} {
		_, err := admin.StopService(ctx, &pb.StopServiceRequest{Name: name})
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("stop %q: %v, want InvalidArgument", name, err)
		}
	}
	for _, glob := range []string{"[", "a[", `\`, strings.Repeat("*", 300)} {
		_, err := procs.ListProcesses(ctx, &pb.ListProcessesRequest{Filter: &pb.ProcessFilter{NameGlob: glob}})
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("ListProcesses glob %q: %v, want InvalidArgument", glob, err)
		}
		_, err = admin.ListServices(ctx, &pb.ListServicesRequest{NameGlob: glob})
		if glob != strings.Repeat("*", 300) && status.Code(err) != codes.InvalidArgument {
			t.Errorf("ListServices glob %q: %v, want InvalidArgument", glob, err)
		}
	}
	ppidNeg := int32(-1)
	manyPIDs := make([]int32, 1025)
	for i := range manyPIDs {
		manyPIDs[i] = int32(i + 1)
	}
	for name, req := range map[string]*pb.ListProcessesRequest{
		"limit over 100000": {Limit: 100001},
		"PID 0":             {Filter: &pb.ProcessFilter{Pids: []int32{0}}},
		"negative PID":      {Filter: &pb.ProcessFilter{Pids: []int32{-5}}},
		"1025 PIDs":         {Filter: &pb.ProcessFilter{Pids: manyPIDs}},
		"negative PPID":     {Filter: &pb.ProcessFilter{Ppid: &ppidNeg}},
		"user with newline": {Filter: &pb.ProcessFilter{User: "root\nadmin"}},
		"user over 256":     {Filter: &pb.ProcessFilter{User: strings.Repeat("u", 257)}},
		"unknown sort":      {Sort: pb.ProcessSort(99)},
		"unknown field":     {Fields: []pb.ProcessField{pb.ProcessField(99)}},
	} {
		if _, err := procs.ListProcesses(ctx, req); status.Code(err) != codes.InvalidArgument {
			t.Errorf("ListProcesses %s: %v, want InvalidArgument", name, err)
		}
	}
	for name, d := range map[string]*durationpb.Duration{
		"negative timeout": durationpb.New(-time.Second),
		"timeout over max": durationpb.New(24 * time.Hour),
		"invalid duration": {Seconds: 1, Nanos: -1},
	} {
		if _, err := admin.StopService(ctx, &pb.StopServiceRequest{Name: "nginx", Timeout: d}); status.Code(err) != codes.InvalidArgument {
			t.Errorf("StopService %s: %v, want InvalidArgument", name, err)
		}
	}
	// Over the 1 MiB receive limit.
	_, err := procs.ListProcesses(ctx, &pb.ListProcessesRequest{Filter: &pb.ProcessFilter{User: strings.Repeat("u", MaxRecvMsgSize+1)}})
	if status.Code(err) != codes.ResourceExhausted {
		t.Errorf("oversized request: %v, want ResourceExhausted", err)
	}
}

func TestMutationRateLimitPerIdentity(t *testing.T) {
	a := startTLSAgent(t, Limits{MutationsPerSecond: 0.001, MutationBurst: 2}, "")
	ctx := context.Background()
	op, _, _ := a.client(t, "olga", pki.WithOU("operators"))
	other, _, _ := a.client(t, "otto", pki.WithOU("operators"))
	for i := range 2 {
		if _, err := op.StopService(ctx, &pb.StopServiceRequest{Name: "nginx"}); err != nil {
			t.Fatalf("stop %d within burst: %v", i, err)
		}
	}
	// Malformed names change nothing and do not spend the budget.
	for range 3 {
		if _, err := op.StopService(ctx, &pb.StopServiceRequest{Name: "../x"}); status.Code(err) != codes.InvalidArgument {
			t.Fatalf("malformed name: %v, want InvalidArgument", err)
		}
	}
	_, err := op.StopService(ctx, &pb.StopServiceRequest{Name: "nginx"})
	if status.Code(err) != codes.ResourceExhausted || !strings.Contains(err.Error(), "rate limit") {
		t.Fatalf("third stop: %v, want ResourceExhausted rate limit", err)
	}
	if l := lastAudit(t, a.auditPath); l.Event != "denied" || l.Outcome != "ResourceExhausted" {
		t.Errorf("rate-limited call audit: %+v", l)
	}
	if _, err := other.StopService(ctx, &pb.StopServiceRequest{Name: "nginx"}); err != nil {
		t.Errorf("another identity is limited too: %v", err)
	}
	if a.mgr.count() != 3 {
		t.Errorf("backend called %d times, want 3", a.mgr.count())
	}
}

func TestConcurrentStreamCapPerIdentity(t *testing.T) {
	a := startTLSAgent(t, Limits{StreamsPerIdentity: 2}, "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, procs, _ := a.client(t, "vera", pki.WithOU("viewers"))
	for i := range 2 {
		st, err := procs.WatchProcesses(ctx, &pb.WatchProcessesRequest{IncludeExisting: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Recv(); err != nil {
			t.Fatalf("stream %d: %v", i, err)
		}
	}
	st, err := procs.WatchProcesses(ctx, &pb.WatchProcessesRequest{IncludeExisting: true})
	if err == nil {
		_, err = st.Recv()
	}
	if status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("third stream: %v, want ResourceExhausted", err)
	}
	_, other, _ := a.client(t, "vic", pki.WithOU("viewers"))
	st, err = other.WatchProcesses(ctx, &pb.WatchProcessesRequest{IncludeExisting: true})
	if err == nil {
		_, err = st.Recv()
	}
	if err != nil {
		t.Fatalf("another identity's stream: %v", err)
	}
}

func TestAuditFailureFailsTheMutation(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("/dev/full not available")
	}
	a := startTLSAgent(t, Limits{}, "/dev/full")
	op, procs, _ := a.client(t, "olga", pki.WithOU("operators"))
	_, err := op.StopService(context.Background(), &pb.StopServiceRequest{Name: "nginx"})
	if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "audit") {
		t.Fatalf("stop with a failing audit sink: %v, want Unavailable naming the audit log", err)
	}
	if a.mgr.count() != 0 {
		t.Fatal("the backend acted although the audit record could not be written")
	}
	if _, err := procs.ListProcesses(context.Background(), &pb.ListProcessesRequest{}); err != nil {
		t.Fatalf("reads must not depend on the audit sink: %v", err)
	}
}

func TestWhoAmIAndHeartbeatCertificate(t *testing.T) {
	a := startTLSAgent(t, Limits{}, "")
	ctx := context.Background()
	_, _, ag := a.client(t, "olga", pki.WithOU("operators"))
	w, err := ag.WhoAmI(ctx, &pb.WhoAmIRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if w.CommonName != "olga" || strings.Join(w.Roles, ",") != "operator" ||
		strings.Join(w.Permissions, ",") != "agent.read,logs.read,processes.argv,processes.control,processes.read,processes.watch,services.control,services.read" ||
		strings.Join(w.ServiceAllowLists, ";") != "operator: nginx*, remotectl-*" || len(w.ProtectedServices) == 0 || w.Serial == "" {
		t.Errorf("whoami: %+v", w)
	}
	_, _, nobody := a.client(t, "mallory")
	w, err = nobody.WhoAmI(ctx, &pb.WhoAmIRequest{})
	if err != nil || len(w.Roles) != 0 || strings.Join(w.Permissions, ",") != "agent.read" {
		t.Errorf("unbound whoami: %+v, %v", w, err)
	}
	hb, err := nobody.Heartbeat(ctx, &pb.HeartbeatRequest{})
	if err != nil {
		t.Fatalf("unbound heartbeat: %v", err)
	}
	// An unbound identity learns liveness, time and certificate expiry only
	// (issue 13, finding 16).
	if hb.Hostname != "" || hb.AgentVersion != "" || hb.ServerCertSerial != "" || len(hb.Backends) != 0 || hb.ServerTime == nil || hb.ServerCertNotAfter == nil {
		t.Errorf("unbound heartbeat says too much or too little: %+v", hb)
	}
	if hb, err = ag.Heartbeat(ctx, &pb.HeartbeatRequest{}); err != nil {
		t.Fatal(err)
	}
	leaf := a.tls.Certificate()
	if !hb.ServerCertNotAfter.AsTime().Equal(leaf.NotAfter) || hb.ServerCertSerial != leaf.SerialNumber.Text(16) {
		t.Errorf("heartbeat cert: %v %s, want %v %s", hb.ServerCertNotAfter.AsTime(), hb.ServerCertSerial, leaf.NotAfter, leaf.SerialNumber.Text(16))
	}
}

// Every method the server registers must be in the authorization table,
// or it would be denied to everyone (fail closed) without anyone noticing.
func TestEveryRegisteredMethodHasAnAuthzRule(t *testing.T) {
	a := startTLSAgent(t, Limits{}, "")
	n := 0
	for svc, info := range a.srv.grpc.GetServiceInfo() {
		for _, m := range info.Methods {
			full := "/" + svc + "/" + m.Name
			n++
			if _, ok := authz.Methods[full]; !ok {
				t.Errorf("%s has no entry in authz.Methods", full)
			}
		}
	}
	if n < 10 {
		t.Fatalf("only %d methods registered; the check looks at the wrong server", n)
	}
}

// A connection that never completes its TLS handshake is closed after
// HandshakeTimeout, and the refusal is audited.
func TestSilentConnectionClosedAfterHandshakeTimeout(t *testing.T) {
	if testing.Short() {
		t.Skip("takes HandshakeTimeout (10 s)")
	}
	t.Parallel()
	a := startTLSAgent(t, Limits{}, "")
	conn, err := net.Dial("tcp", a.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	start := time.Now()
	_ = conn.SetReadDeadline(time.Now().Add(HandshakeTimeout + 10*time.Second))
	var b [1]byte
	_, err = conn.Read(b[:])
	waited := time.Since(start)
	if err == nil || waited > HandshakeTimeout+5*time.Second {
		t.Fatalf("silent connection: read %v after %v; want it closed after about %v", err, waited, HandshakeTimeout)
	}
	if waited < HandshakeTimeout-time.Second {
		t.Fatalf("closed after %v, before the %v handshake timeout", waited, HandshakeTimeout)
	}
	if l := waitAudit(t, a.auditPath, 1); len(l) != 1 || l[0].Method != HandshakeMethod {
		t.Fatalf("audit after a timed-out handshake: %+v", l)
	}
}

// A client pinging more often than KeepaliveMinTime is cut off
// (GOAWAY too_many_pings), so idle floods cannot keep the agent busy.
func TestKeepalivePingFloodCutOff(t *testing.T) {
	if testing.Short() {
		t.Skip("takes about 40 s (pings 10 s apart until the strikes run out)")
	}
	t.Parallel()
	a := startTLSAgent(t, Limits{}, "")
	c, k, err := a.ca.IssueClient("vera", time.Hour, pki.WithOU("viewers"))
	pair := keyPair(t, c, k, err)
	cfg := &tls.Config{MinVersion: tls.VersionTLS13, RootCAs: a.caPool, ServerName: "127.0.0.1", Certificates: []tls.Certificate{*pair}}
	// 10 s is the shortest interval the Go client allows; the server wants >= 15 s.
	cc, err := grpc.NewClient(a.addr, grpc.WithTransportCredentials(credentials.NewTLS(cfg)),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: 10 * time.Second, Timeout: 5 * time.Second, PermitWithoutStream: true}))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cc.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), 70*time.Second)
	defer cancel()
	st, err := pb.NewProcessServiceClient(cc).WatchProcesses(ctx, &pb.WatchProcessesRequest{Filter: &pb.ProcessFilter{NameGlob: "no-such-process-*"}})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = st.Recv()
	if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "too_many_pings") || ctx.Err() != nil {
		t.Fatalf("stream of a ping-flooding client: %v after %v; want UNAVAILABLE (GOAWAY too_many_pings) well before 70 s", err, time.Since(start))
	}
	t.Logf("cut off after %v: %v", time.Since(start).Round(time.Second), err)
}

func TestLimitsWithDefaults(t *testing.T) {
	tests := []struct {
		name     string
		in       Limits
		wantOpen int
	}{
		{"zero: open streams follow the stream cap", Limits{}, DefaultLimits.StreamsPerIdentity + DefaultOpenStreamsHeadroom},
		{"stream cap set: open streams follow it", Limits{StreamsPerIdentity: 4}, 4 + DefaultOpenStreamsHeadroom},
		{"open streams set: kept", Limits{OpenStreamsPerIdentity: 5}, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.in.withDefaults()
			if got.OpenStreamsPerIdentity != tt.wantOpen {
				t.Errorf("OpenStreamsPerIdentity = %d, want %d", got.OpenStreamsPerIdentity, tt.wantOpen)
			}
			// A field added to Limits without a default would stay zero
			// (no limit, or no budget at all).
			v := reflect.ValueOf(got)
			for i := range v.NumField() {
				if v.Field(i).IsZero() {
					t.Errorf("%s has no default", v.Type().Field(i).Name)
				}
			}
		})
	}
}
