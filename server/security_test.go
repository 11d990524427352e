package server

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/remotectl/remotectl/internal/pki"
	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
	"github.com/remotectl/remotectl/server/authz"
	svcguard "github.com/remotectl/remotectl/server/guard"
	"github.com/remotectl/remotectl/server/process"
)

// waitFor polls cond (server goroutines finish handshakes after the client
// has moved on) for up to 20 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// TestJunkConnectionsCannotFloodTheAuditLog: 3300 bare TCP connections (no
// TLS at all) add at most 50 audit lines, all accounted for in a
// "suppressed" record, and the agent keeps serving (finding 3).
func TestJunkConnectionsCannotFloodTheAuditLog(t *testing.T) {
	a := startTLSAgent(t, Limits{}, "")
	before := len(readAudit(t, a.auditPath))
	const junk = 3300
	for range junk {
		c, err := net.Dial("tcp", a.addr)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.Close()
	}
	waitFor(t, "the refused handshakes", func() bool { return a.srv.hs.refused.Load() >= junk })
	a.srv.hs.writeTallies(a.srv.hs.sampler.Flush(time.Now().Add(HandshakeAuditInterval)))
	lines := readAudit(t, a.auditPath)[before:]
	if len(lines) > 50 {
		t.Fatalf("%d junk connections added %d audit lines, want <= 50", junk, len(lines))
	}
	counted := 0
	for _, l := range lines {
		counted += l.Count
		if l.Event == "denied" {
			counted++
		}
	}
	if counted != junk {
		t.Errorf("audit accounts for %d refusals in %d lines, want all %d", counted, len(lines), junk)
	}
	_, procs, _ := a.client(t, "bob", pki.WithOU("viewers"))
	if _, err := procs.ListProcesses(context.Background(), &pb.ListProcessesRequest{}); err != nil {
		t.Fatalf("a real client after the flood: %v", err)
	}
	t.Logf("%d junk connections: %d audit lines", junk, len(lines))
}

// TestRevocationReachesLiveConnections: a client revoked (or whose binding
// is removed) while connected loses its connection and its streams at the
// reload, instead of keeping its role until it disconnects (finding 4).
func TestRevocationReachesLiveConnections(t *testing.T) {
	a := startTLSAgent(t, Limits{}, "")
	certPEM, keyPEM, err := a.ca.IssueClient("alice", time.Hour, pki.WithOU("operators"))
	pair := keyPair(t, certPEM, keyPEM, err)
	b, _ := pem.Decode(certPEM)
	leaf, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	cc := a.conn(t, pair)
	procs := pb.NewProcessServiceClient(cc)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := procs.ListProcesses(ctx, &pb.ListProcessesRequest{}); err != nil {
		t.Fatal(err)
	}
	stream, err := procs.WatchProcesses(ctx, &pb.WatchProcessesRequest{IncludeExisting: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); err != nil {
		t.Fatal(err)
	}
	// A viewer's stream ends when the policy no longer binds viewers.
	_, viewerProcs, _ := a.client(t, "val", pki.WithOU("viewers"))
	vstream, err := viewerProcs.WatchProcesses(ctx, &pb.WatchProcessesRequest{IncludeExisting: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := vstream.Recv(); err != nil {
		t.Fatal(err)
	}
	p, err := authz.New(authz.Config{Bindings: []authz.Binding{{OU: "operators", Role: authz.RoleOperator}}})
	if err != nil {
		t.Fatal(err)
	}
	if n := a.srv.SetPolicy(p); n != 1 {
		t.Errorf("SetPolicy ended %d streams, want the viewer's one", n)
	}
	for {
		if _, err = vstream.Recv(); err != nil {
			break
		}
	}
	if status.Code(err) != codes.PermissionDenied {
		t.Errorf("viewer stream after the policy change: %v, want PermissionDenied", err)
	}

	files := pki.ServerFiles{CA: a.tlsFiles.CA, Cert: a.tlsFiles.Cert, Key: a.tlsFiles.Key, RevokedSerials: []string{leaf.SerialNumber.Text(16)}}
	if err := a.tls.Reload(files); err != nil {
		t.Fatal(err)
	}
	cut := a.srv.Revalidate(a.tls.VerifyPeer)
	if len(cut) != 1 || cut[0] != "CN=alice,OU=operators" {
		t.Fatalf("Revalidate closed %v, want alice's connection", cut)
	}
	for {
		if _, err = stream.Recv(); err != nil {
			break
		}
	}
	if status.Code(err) != codes.Unavailable {
		t.Errorf("revoked client's stream: %v, want Unavailable (connection closed)", err)
	}
	if _, err := procs.ListProcesses(context.Background(), &pb.ListProcessesRequest{}); status.Code(err) != codes.Unavailable {
		t.Errorf("revoked client's next call: %v, want Unavailable (its new handshake is refused)", err)
	}
}

// TestSilentConnectionsCannotStarveHandshakes: connections that never start
// their handshake are capped; past MaxPendingHandshakes the oldest is
// closed, and a real client still connects at once (finding 12).
func TestSilentConnectionsCannotStarveHandshakes(t *testing.T) {
	a := startTLSAgent(t, Limits{}, "")
	const silent = MaxPendingHandshakes + 72
	for range silent {
		c, err := net.Dial("tcp", a.addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
	}
	waitFor(t, "the oldest silent connections to be closed", func() bool { return a.srv.hs.evicted.Load() >= 72 })
	_, procs, _ := a.client(t, "bob", pki.WithOU("viewers"))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if _, err := procs.ListProcesses(ctx, &pb.ListProcessesRequest{}); err != nil {
		t.Fatalf("a real client behind %d silent connections: %v", silent, err)
	}
}

// TestArgvNeedsItsOwnPermission: a viewer sees processes without argv and
// executable path (they may hold passwords); an operator sees them
// (issue 13, finding 10).
func TestArgvNeedsItsOwnPermission(t *testing.T) {
	a := startTLSAgent(t, Limits{}, "")
	a.procs.procs = []process.Process{{PID: 7, Name: "mysql", Exe: "/usr/bin/mysql", Args: []string{"mysql", "-psecret"}}}
	for _, tc := range []struct {
		ou   string
		sees bool
	}{{"viewers", false}, {"operators", true}} {
		_, procs, _ := a.client(t, "u-"+tc.ou, pki.WithOU(tc.ou))
		resp, err := procs.ListProcesses(context.Background(), &pb.ListProcessesRequest{})
		if err != nil || len(resp.Processes) != 1 {
			t.Fatalf("%s: %v %v", tc.ou, resp, err)
		}
		p := resp.Processes[0]
		if got := len(p.Args) > 0 || p.Exe != ""; got != tc.sees {
			t.Errorf("%s sees argv/exe %v (%q %q), want %v", tc.ou, got, p.Args, p.Exe, tc.sees)
		}
		if p.Name != "mysql" {
			t.Errorf("%s: name %q", tc.ou, p.Name)
		}
	}
}

// TestReadsAndDenialsBudgetedPerIdentity: one identity's reads are rate
// limited without touching another's, and its refused calls write at most
// DenialsPerIdentity audit records a minute (issue 13, finding 11).
func TestReadsAndDenialsBudgetedPerIdentity(t *testing.T) {
	a := startTLSAgent(t, Limits{ReadsPerSecond: 0.001, ReadBurst: 3}, "")
	ctx := context.Background()
	svcs, procs, _ := a.client(t, "greedy", pki.WithOU("viewers"))
	for i := range 3 {
		if _, err := procs.ListProcesses(ctx, &pb.ListProcessesRequest{}); err != nil {
			t.Fatalf("read %d within the burst: %v", i, err)
		}
	}
	_, err := procs.ListProcesses(ctx, &pb.ListProcessesRequest{})
	if status.Code(err) != codes.ResourceExhausted || !strings.Contains(err.Error(), "read rate limit") {
		t.Fatalf("read past the budget: %v, want ResourceExhausted", err)
	}
	_, other, _ := a.client(t, "polite", pki.WithOU("viewers"))
	if _, err := other.ListProcesses(ctx, &pb.ListProcessesRequest{}); err != nil {
		t.Fatalf("another identity: %v", err)
	}
	before := len(readAudit(t, a.auditPath))
	for range 100 {
		_, _ = svcs.StopService(ctx, &pb.StopServiceRequest{Name: "nginx"})
	}
	if n := len(readAudit(t, a.auditPath)) - before; n > svcguard.DenialsPerIdentity {
		t.Fatalf("100 refused calls wrote %d audit records, want <= %d", n, svcguard.DenialsPerIdentity)
	}
}

// TestRevocationReachesHTTPSConnections: the JSON-over-HTTPS listener's
// keep-alive connections are verified again on reload like gRPC's.
func TestRevocationReachesHTTPSConnections(t *testing.T) {
	a := startTLSAgent(t, Limits{}, "")
	base := serveHTTPS(t, a)
	certPEM, keyPEM, err := a.ca.IssueClient("hanna", time.Hour, pki.WithOU("viewers"))
	pair := keyPair(t, certPEM, keyPEM, err)
	b, _ := pem.Decode(certPEM)
	leaf, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	c := a.httpClient(t, pair, false)
	if r := do(c, "GET", base+"/v1/processes", ""); r.err != nil || r.status != 200 {
		t.Fatalf("before revocation: %d %v", r.status, r.err)
	}
	files := a.tlsFiles
	files.RevokedSerials = []string{leaf.SerialNumber.Text(16)}
	if err := a.tls.Reload(files); err != nil {
		t.Fatal(err)
	}
	if cut := a.srv.Revalidate(a.tls.VerifyPeer); len(cut) != 1 || cut[0] != "CN=hanna,OU=viewers" {
		t.Fatalf("Revalidate closed %v, want hanna's HTTPS connection", cut)
	}
	if r := do(c, "GET", base+"/v1/processes", ""); r.err == nil {
		t.Fatalf("revoked client still served over HTTPS: %d", r.status)
	}
}
