package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/remotectl/remotectl/internal/pki"
	"github.com/remotectl/remotectl/internal/testutil/tlstest"
	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
	"github.com/remotectl/remotectl/server"
	"github.com/remotectl/remotectl/server/audit"
	"github.com/remotectl/remotectl/server/authz"
	"github.com/remotectl/remotectl/test/agenttest"
)

// authzAgent is a real agent (real process lister and service manager) with
// an authorization policy, an audit file and TLS files reloaded every 50 ms.
type authzAgent struct {
	addr      string
	ca        *pki.CA
	paths     pki.Paths
	tls       *pki.ServerTLS
	auditPath string
}

func startAuthzAgent(t *testing.T, revoked ...string) *authzAgent {
	t.Helper()
	auditPath := filepath.Join(t.TempDir(), "audit.log")
	policy, err := authz.New(authz.Config{
		Bindings: []authz.Binding{
			{OU: "viewers", Role: authz.RoleViewer},
			{OU: "operators", Role: authz.RoleOperator},
			{URIPrefix: "spiffe://remotectl.test/admin/", Role: authz.RoleAdmin},
		},
		RoleServiceAllow: map[string][]string{authz.RoleOperator: {"remotectl-*"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	sink, err := audit.Open(auditPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sink.Close() })
	ag := agenttest.Start(t, agenttest.Revoked(revoked...), agenttest.ReloadTLS(50*time.Millisecond),
		agenttest.Configure(func(c *server.Config) { c.Policy, c.Audit = policy, sink }))
	return &authzAgent{addr: ag.Addr, ca: ag.PKI.CA, paths: ag.PKI.Paths, tls: ag.TLS, auditPath: auditPath}
}

// dial connects presenting pair (nil: no certificate), trusting the dev CA.
func (a *authzAgent) dial(t *testing.T, pair *tls.Certificate) *grpc.ClientConn {
	t.Helper()
	return tlstest.Dial(t, a.addr, a.ca.Pool(), pair)
}

func pair(t *testing.T, c, k []byte, err error) *tls.Certificate {
	t.Helper()
	return tlstest.KeyPair(t, c, k, err)
}

type auditEntry struct{ Event, Method, Outcome, Target, Identity string }

func auditEntries(t *testing.T, path string) []auditEntry {
	t.Helper()
	return tlstest.JSONLines[auditEntry](t, path)
}

// authzUnit is an instance of the systemd harness's remotectl-inst@ template.
const authzUnit = "remotectl-inst@authz.service"

// TestAuthzMatrix runs every kind of caller against a read RPC and a stop
// RPC over real TLS on loopback. The stop target is a harness unit
// (authzUnit) when the systemd harness is up; otherwise the real manager answers
// UNAVAILABLE for permitted stops, which is still audited.
func TestAuthzMatrix(t *testing.T) {
	kp := func(c, k []byte, err error) *tls.Certificate { return pair(t, c, k, err) }
	a := startAuthzAgent(t)
	systemd := os.Getenv("DBUS_SYSTEM_BUS_ADDRESS") != ""
	if systemd {
		// A private instance of the harness's template, so the stops here
		// never race other packages' tests that expect remotectl-test running.
		admin := pb.NewServiceManagerClient(a.dial(t, kp(a.ca.IssueClient("probe", time.Hour, pki.WithURI("spiffe://remotectl.test/admin/probe")))))
		if _, err := admin.StartService(context.Background(), &pb.StartServiceRequest{Name: authzUnit}); err != nil {
			t.Logf("harness unit %s not startable (%v): testing without systemd", authzUnit, err)
			systemd = false
		} else {
			t.Cleanup(func() { _, _ = admin.StopService(context.Background(), &pb.StopServiceRequest{Name: authzUnit}) })
		}
	}
	permittedStop := codes.Unavailable
	if systemd {
		permittedStop = codes.OK
	}
	t.Logf("systemd harness usable: %v, so a permitted stop of %s answers %v", systemd, authzUnit, permittedStop)
	revokedPair := kp(a.ca.IssueClient("revoked", time.Hour, pki.WithOU("operators")))
	if err := a.tls.Reload(pki.ServerFiles{CA: a.paths.CACert, Cert: a.paths.ServerCert, Key: a.paths.ServerKey,
		RevokedSerials: []string{revokedPair.Leaf.SerialNumber.Text(16)}}); err != nil {
		t.Fatal(err)
	}
	other, err := pki.NewCA("remotectl dev CA", 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	cases := []struct {
		name      string
		cert      *tls.Certificate
		read      codes.Code
		stop      codes.Code
		handshake bool
	}{
		{"no client cert", nil, codes.Unavailable, codes.Unavailable, true},
		{"other CA", kp(other.IssueClient("remotectl-admin", time.Hour)), codes.Unavailable, codes.Unavailable, true},
		{"expired", kp(a.ca.Issue(pki.Request{CommonName: "late", OrganizationalUnits: []string{"operators"},
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, NotBefore: now.Add(-2 * time.Hour), NotAfter: now.Add(-time.Hour)})),
			codes.Unavailable, codes.Unavailable, true},
		{"revoked", revokedPair, codes.Unavailable, codes.Unavailable, true},
		{"wrong key usage", kp(a.ca.Issue(pki.Request{CommonName: "srv", OrganizationalUnits: []string{"operators"},
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, Validity: time.Hour})), codes.Unavailable, codes.Unavailable, true},
		{"viewer", kp(a.ca.IssueClient("vera", time.Hour, pki.WithOU("viewers"))), codes.OK, codes.PermissionDenied, false},
		{"operator", kp(a.ca.IssueClient("olga", time.Hour, pki.WithOU("operators"))), codes.OK, permittedStop, false},
		{"admin", kp(a.ca.IssueClient("adam", time.Hour, pki.WithURI("spiffe://remotectl.test/admin/adam"))), codes.OK, permittedStop, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := len(auditEntries(t, a.auditPath))
			cc := a.dial(t, c.cert)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_, err := pb.NewProcessServiceClient(cc).ListProcesses(ctx, &pb.ListProcessesRequest{Limit: 1})
			if status.Code(err) != c.read {
				t.Errorf("ListProcesses: %v, want %v", err, c.read)
			}
			svc := pb.NewServiceManagerClient(cc)
			_, err = svc.StopService(ctx, &pb.StopServiceRequest{Name: authzUnit})
			if status.Code(err) != c.stop {
				t.Errorf("StopService: %v, want %v", err, c.stop)
			}
			if c.stop == codes.PermissionDenied && !strings.Contains(err.Error(), "missing permission services.control") {
				t.Errorf("denial does not name the permission: %v", err)
			}
			if c.stop == codes.OK {
				if _, err := svc.StartService(ctx, &pb.StartServiceRequest{Name: authzUnit}); err != nil {
					t.Errorf("restarting the harness unit: %v", err)
				}
			}
			// Handshake denials are written by a server goroutine after the
			// client saw the failure: wait for the audit file to grow.
			n := before
			if c.handshake {
				n++
			}
			var got []string
			for _, e := range tlstest.WaitJSONLines[auditEntry](t, a.auditPath, n, 5*time.Second)[before:] {
				got = append(got, e.Event+" "+e.Method+" "+e.Outcome)
			}
			stop := "/remotectl.v1.ServiceManager/StopService"
			var want []string
			switch {
			case c.handshake:
				want = []string{"denied " + server.HandshakeMethod + " Unauthenticated"}
				got = got[:min(len(got), 1)] // gRPC may retry the handshake; each attempt is recorded
			case c.stop == codes.PermissionDenied:
				want = []string{"denied " + stop + " PermissionDenied"}
			case !systemd:
				// Without systemd the guard cannot resolve what the stop
				// would touch, so it refuses before acting (fail closed):
				// no intent, one denial.
				want = []string{"denied " + stop + " Unavailable"}
			default:
				want = []string{"intent " + stop + " ", "result " + stop + " " + c.stop.String()}
				if c.stop == codes.OK {
					want = append(want, "intent /remotectl.v1.ServiceManager/StartService ", "result /remotectl.v1.ServiceManager/StartService OK")
				}
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("audit:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}
