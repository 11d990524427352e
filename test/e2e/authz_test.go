package e2e

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"github.com/remotectl/remotectl/internal/pki"
	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
	"github.com/remotectl/remotectl/server"
	"github.com/remotectl/remotectl/server/agent"
	"github.com/remotectl/remotectl/server/audit"
	"github.com/remotectl/remotectl/server/authz"
	"github.com/remotectl/remotectl/server/process"
	"github.com/remotectl/remotectl/server/service"
	"github.com/remotectl/remotectl/server/watch/watchtest"
)

// authzAgent is a real agent (real process lister and service manager) with
// an authorization policy, an audit file and reloadable TLS material.
type authzAgent struct {
	addr      string
	ca        *pki.CA
	paths     pki.Paths
	tls       *pki.ServerTLS
	auditPath string
}

func startAuthzAgent(t *testing.T, revoked ...string) *authzAgent {
	t.Helper()
	dir := t.TempDir()
	_, paths, err := pki.EnsureDevPKI(dir, []string{"127.0.0.1", "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	ca, err := pki.LoadCA(paths.CACert, paths.CAKey)
	if err != nil {
		t.Fatal(err)
	}
	a := &authzAgent{ca: ca, paths: paths, auditPath: filepath.Join(dir, "audit.log")}
	a.tls, err = pki.NewServerTLS(pki.ServerFiles{CA: paths.CACert, Cert: paths.ServerCert, Key: paths.ServerKey, RevokedSerials: revoked})
	if err != nil {
		t.Fatal(err)
	}
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
	sink, err := audit.Open(a.auditPath)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	lister := process.NewLister()
	mgr := service.NewManager()
	srv, err := server.New(server.Config{
		TLS: a.tls.Config(), Logger: zerolog.New(io.Discard), Processes: lister, Services: mgr,
		Watcher:  watchtest.Poll(t, lister, 100*time.Millisecond),
		Reporter: agent.NewReporter(ctx, lister.Count, nil),
		Policy:   policy, Audit: sink, ServerCert: a.tls.Certificate,
	})
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a.addr = lis.Addr().String()
	go a.tls.Watch(ctx, 50*time.Millisecond, func(error) {})
	done := make(chan struct{})
	go func() { _ = srv.Serve(lis); close(done) }()
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		srv.Shutdown(sctx)
		<-done
		cancel()
		_ = mgr.Close()
		_ = sink.Close()
	})
	return a
}

// dial connects presenting pair (nil: no certificate), trusting the dev CA.
func (a *authzAgent) dial(t *testing.T, pair *tls.Certificate) *grpc.ClientConn {
	t.Helper()
	cfg := &tls.Config{MinVersion: tls.VersionTLS13, RootCAs: a.ca.Pool(), ServerName: "127.0.0.1",
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			if pair == nil {
				return &tls.Certificate{}, nil
			}
			return pair, nil
		}}
	cc, err := grpc.NewClient(a.addr, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cc.Close() })
	return cc
}

func pair(t *testing.T, c, k []byte, err error) *tls.Certificate {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	p, err := tls.X509KeyPair(c, k)
	if err != nil {
		t.Fatal(err)
	}
	return &p
}

type auditEntry struct{ Event, Method, Outcome, Target, Identity string }

func auditEntries(t *testing.T, path string) []auditEntry {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	var out []auditEntry
	for sc := bufio.NewScanner(f); sc.Scan(); {
		var e auditEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("audit line %q: %v", sc.Text(), err)
		}
		out = append(out, e)
	}
	return out
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
			var got []string
			deadline := time.Now().Add(5 * time.Second)
			for {
				got = got[:0]
				for _, e := range auditEntries(t, a.auditPath)[before:] {
					got = append(got, e.Event+" "+e.Method+" "+e.Outcome)
				}
				if !c.handshake || len(got) > 0 || time.Now().After(deadline) {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			stop := "/remotectl.v1.ServiceManager/StopService"
			var want []string
			switch {
			case c.handshake:
				want = []string{"denied " + server.HandshakeMethod + " Unauthenticated"}
				got = got[:min(len(got), 1)] // gRPC may retry the handshake; each attempt is recorded
			case c.stop == codes.PermissionDenied:
				want = []string{"denied " + stop + " PermissionDenied"}
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
