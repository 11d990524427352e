package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/remotectl/remotectl/internal/pki"
	"github.com/remotectl/remotectl/internal/testutil/tlstest"
	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
	"github.com/remotectl/remotectl/server/agent"
	"github.com/remotectl/remotectl/server/audit"
	"github.com/remotectl/remotectl/server/authz"
	"github.com/remotectl/remotectl/server/process"
	"github.com/remotectl/remotectl/server/service"
	"github.com/remotectl/remotectl/server/watch/watchtest"
)

// countingManager is stubManager that counts control calls.
type countingManager struct {
	stubManager
	mu    sync.Mutex
	calls int
}

func (m *countingManager) Stop(ctx context.Context, n string, o service.ControlOptions) (service.Result, error) {
	m.mu.Lock()
	m.calls++
	m.mu.Unlock()
	return m.stubManager.Stop(ctx, n, o)
}

func (m *countingManager) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls
}

// tlsAgent is a server on 127.0.0.1 with mutual TLS, a policy and an audit file.
type tlsAgent struct {
	addr      string
	ca        *pki.CA
	caPool    *x509.CertPool
	tls       *pki.ServerTLS
	auditPath string
	mgr       *countingManager
	srv       *Server
	tlsFiles  pki.ServerFiles
	procs     *stubLister
}

func testPolicy(t *testing.T) *authz.Policy {
	t.Helper()
	p, err := authz.New(authz.Config{
		Bindings: []authz.Binding{
			{OU: "viewers", Role: authz.RoleViewer},
			{OU: "operators", Role: authz.RoleOperator},
			{URIPrefix: "spiffe://remotectl.test/admin/", Role: authz.RoleAdmin},
		},
		RoleServiceAllow: map[string][]string{authz.RoleOperator: {"nginx*", "remotectl-*"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func startTLSAgent(t *testing.T, limits Limits, auditPath string) *tlsAgent {
	t.Helper()
	return startTLSAgentWith(t, limits, auditPath, nil)
}

// startTLSAgentWith serves services (nil: a countingManager) instead.
func startTLSAgentWith(t *testing.T, limits Limits, auditPath string, services service.Manager) *tlsAgent {
	t.Helper()
	p := tlstest.New(t)
	a := &tlsAgent{ca: p.CA, caPool: p.CA.Pool(), mgr: &countingManager{}, auditPath: auditPath, tlsFiles: p.ServerFiles()}
	if a.auditPath == "" {
		a.auditPath = filepath.Join(t.TempDir(), "audit.log")
	}
	a.tls = p.ServerTLS(t)
	sink, err := audit.Open(a.auditPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sink.Close() })
	procs := &stubLister{procs: []process.Process{{PID: 1, Name: "init"}}}
	a.procs = procs
	if services == nil {
		services = a.mgr
	}
	a.srv, err = New(Config{
		TLS: a.tls.Config(), Logger: zerolog.Nop(), Processes: procs, Services: services,
		Watcher:  watchtest.Poll(t, procs, 20*time.Millisecond),
		Reporter: agent.NewReporter(context.Background(), nil, nil),
		Policy:   testPolicy(t), Audit: sink, Limits: limits, ServerCert: a.tls.Certificate,
	})
	if err != nil {
		t.Fatal(err)
	}
	a.addr, _ = tlstest.Serve(t, a.srv, nil)
	return a
}

// conn dials with the given client certificate (nil: none) trusting the agent's CA.
func (a *tlsAgent) conn(t *testing.T, pair *tls.Certificate) *grpc.ClientConn {
	t.Helper()
	return tlstest.Dial(t, a.addr, a.caPool, pair)
}

func keyPair(t *testing.T, certPEM, keyPEM []byte, err error) *tls.Certificate {
	t.Helper()
	return tlstest.KeyPair(t, certPEM, keyPEM, err)
}

type auditLine struct {
	Event, Identity, Peer, Method, Target, Outcome, Message, Permission string
	StateBefore                                                         string `json:"state_before"`
	StateAfter                                                          string `json:"state_after"`
	Count                                                               int
}

func readAudit(t *testing.T, path string) []auditLine {
	t.Helper()
	return tlstest.JSONLines[auditLine](t, path)
}

// waitAudit waits (up to 5 s) for the audit file to hold n lines (handshake
// records are written by the server goroutine after the client saw the failure).
func waitAudit(t *testing.T, path string, n int) []auditLine {
	t.Helper()
	return tlstest.WaitJSONLines[auditLine](t, path, n, 5*time.Second)
}

func TestAuthorizationMatrixOverTLS(t *testing.T) {
	a := startTLSAgent(t, Limits{}, "")
	other, err := pki.NewCA("test CA", 24*time.Hour) // same name, other key
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	kp := func(c, k []byte, err error) *tls.Certificate { return keyPair(t, c, k, err) }
	revoked := kp(a.ca.IssueClient("rev", time.Hour, pki.WithOU("operators")))
	ids := []struct {
		name      string
		pair      *tls.Certificate
		listCode  codes.Code
		stopCode  codes.Code
		handshake bool // refused at the TLS layer
	}{
		{name: "no client cert", handshake: true, listCode: codes.Unavailable, stopCode: codes.Unavailable},
		{name: "other CA", pair: kp(other.IssueClient("alice", time.Hour, pki.WithOU("operators"))), handshake: true, listCode: codes.Unavailable, stopCode: codes.Unavailable},
		{name: "expired", pair: kp(a.ca.Issue(pki.Request{CommonName: "old", OrganizationalUnits: []string{"operators"},
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(-time.Hour)})),
			handshake: true, listCode: codes.Unavailable, stopCode: codes.Unavailable},
		{name: "revoked", pair: revoked, handshake: true, listCode: codes.Unavailable, stopCode: codes.Unavailable},
		{name: "server-only key usage", pair: kp(a.ca.Issue(pki.Request{CommonName: "srv", OrganizationalUnits: []string{"operators"},
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, Validity: time.Hour})), handshake: true, listCode: codes.Unavailable, stopCode: codes.Unavailable},
		{name: "unbound", pair: kp(a.ca.IssueClient("mallory", time.Hour)), listCode: codes.PermissionDenied, stopCode: codes.PermissionDenied},
		{name: "viewer", pair: kp(a.ca.IssueClient("vera", time.Hour, pki.WithOU("viewers"))), listCode: codes.OK, stopCode: codes.PermissionDenied},
		{name: "operator", pair: kp(a.ca.IssueClient("olga", time.Hour, pki.WithOU("operators"))), listCode: codes.OK, stopCode: codes.OK},
		{name: "admin", pair: kp(a.ca.IssueClient("adam", time.Hour, pki.WithURI("spiffe://remotectl.test/admin/adam"))), listCode: codes.OK, stopCode: codes.OK},
	}
	if err := a.tls.Reload(pki.ServerFiles{CA: a.tlsFiles.CA, Cert: a.tlsFiles.Cert, Key: a.tlsFiles.Key,
		RevokedSerials: []string{revoked.Leaf.SerialNumber.Text(16)}}); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		t.Run(id.name, func(t *testing.T) {
			before := len(readAudit(t, a.auditPath))
			calls := a.mgr.count()
			cc := a.conn(t, id.pair)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, err := pb.NewProcessServiceClient(cc).ListProcesses(ctx, &pb.ListProcessesRequest{})
			if got := status.Code(err); got != id.listCode {
				t.Errorf("ListProcesses: %v (%v), want %v", got, err, id.listCode)
			}
			if id.listCode == codes.PermissionDenied && !strings.Contains(status.Convert(err).Message(), "missing permission processes.read") {
				t.Errorf("list denial %q does not name processes.read", status.Convert(err).Message())
			}
			_, err = pb.NewServiceManagerClient(cc).StopService(ctx, &pb.StopServiceRequest{Name: "nginx.service"})
			if got := status.Code(err); got != id.stopCode {
				t.Errorf("StopService: %v (%v), want %v", got, err, id.stopCode)
			}
			if id.stopCode == codes.PermissionDenied && !strings.Contains(status.Convert(err).Message(), "missing permission services.control") {
				t.Errorf("stop denial %q does not name services.control", status.Convert(err).Message())
			}
			wantCalls := calls
			if id.stopCode == codes.OK {
				wantCalls++
			}
			if got := a.mgr.count(); got != wantCalls {
				t.Errorf("backend Stop called %d times, want %d", got-calls, wantCalls-calls)
			}
			checkAudit(t, a.auditPath, before, id.handshake, id.listCode, id.stopCode)
		})
	}
}

// checkAudit asserts the records written since index before: a handshake
// refusal per attempt, else one denial per denied call and intent+result
// per permitted stop.
func checkAudit(t *testing.T, path string, before int, handshake bool, listCode, stopCode codes.Code) {
	t.Helper()
	var want []string
	switch {
	case handshake:
		want = []string{"denied " + HandshakeMethod}
	default:
		if listCode != codes.OK {
			want = append(want, "denied /remotectl.v1.ProcessService/ListProcesses")
		}
		if stopCode == codes.OK {
			want = append(want, "intent /remotectl.v1.ServiceManager/StopService", "result /remotectl.v1.ServiceManager/StopService")
		} else {
			want = append(want, "denied /remotectl.v1.ServiceManager/StopService")
		}
	}
	lines := waitAudit(t, path, before+len(want))[before:]
	if handshake {
		// gRPC may retry the handshake; every attempt is a refusal on record.
		if len(lines) == 0 {
			t.Fatal("no audit record of the refused handshake")
		}
		for _, l := range lines {
			if l.Event != "denied" || l.Method != HandshakeMethod || l.Outcome != "Unauthenticated" || l.Peer == "" {
				t.Errorf("handshake audit record %+v", l)
			}
		}
		return
	}
	var got []string
	for _, l := range lines {
		got = append(got, l.Event+" "+l.Method)
		if l.Identity == "" || l.Peer == "" {
			t.Errorf("record without identity or peer: %+v", l)
		}
		if l.Event == "result" && (l.Target != "nginx.service" || l.StateBefore != "stopped" || l.StateAfter != "running" || l.Outcome != "OK") {
			t.Errorf("result record %+v", l)
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit records:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
