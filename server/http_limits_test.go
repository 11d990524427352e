package server

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/remotectl/remotectl/internal/pki"
	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
	"github.com/remotectl/remotectl/server/agent"
	"github.com/remotectl/remotectl/server/watch/watchtest"
)

// issue returns a client certificate of the agent's CA.
func (a *tlsAgent) issue(t *testing.T, cn string, opts ...pki.ClientOption) *tls.Certificate {
	t.Helper()
	c, k, err := a.ca.IssueClient(cn, time.Hour, opts...)
	return keyPair(t, c, k, err)
}

// TestHTTPSSharesLimitsWithGRPC: one identity has one rate budget and one
// stream budget, whichever face it calls, and a refusal over HTTP is the
// gRPC refusal (429, audited).
func TestHTTPSSharesLimitsWithGRPC(t *testing.T) {
	a := startTLSAgent(t, Limits{MutationsPerSecond: 0.001, MutationBurst: 2, StreamsPerIdentity: 1}, "")
	base := serveHTTPS(t, a)
	ctx := context.Background()
	olga := a.issue(t, "olga", pki.WithOU("operators"))
	grpcSvc := pb.NewServiceManagerClient(a.conn(t, olga))
	web := a.httpClient(t, olga, true)

	if _, err := grpcSvc.StopService(ctx, &pb.StopServiceRequest{Name: "nginx"}); err != nil {
		t.Fatal(err)
	}
	if got := do(web, http.MethodPost, base+"/v1/services/nginx:stop", ""); got.status != http.StatusOK {
		t.Fatalf("second stop (HTTP): %d %s %v", got.status, got.body, got.err)
	}
	got := do(web, http.MethodPost, base+"/v1/services/nginx:stop", "")
	if got.status != http.StatusTooManyRequests || !strings.Contains(got.body, "rate limit") {
		t.Fatalf("third stop (HTTP): %d %s, want 429 naming the rate limit", got.status, got.body)
	}
	if l := lastAudit(t, a.auditPath); l.Event != "denied" || l.Outcome != "ResourceExhausted" || !strings.Contains(l.Identity, "CN=olga") {
		t.Errorf("rate-limited HTTP call audit: %+v", l)
	}
	if _, err := grpcSvc.StopService(ctx, &pb.StopServiceRequest{Name: "nginx"}); status.Code(err) != codes.ResourceExhausted {
		t.Errorf("gRPC after the HTTP budget is spent: %v, want ResourceExhausted", err)
	}

	// Streams: one for vera, taken over HTTP, is her whole budget.
	vera := a.issue(t, "vera", pki.WithOU("viewers"))
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, _ := http.NewRequestWithContext(sctx, http.MethodGet, base+"/v1/processes:watch?includeExisting=true", nil)
	resp, err := a.httpClient(t, vera, false).Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("first watch: %v %v", resp, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if _, err := resp.Body.Read(make([]byte, 1)); err != nil { // the stream is admitted once it sends
		t.Fatal(err)
	}
	st, err := pb.NewProcessServiceClient(a.conn(t, vera)).WatchProcesses(ctx, &pb.WatchProcessesRequest{})
	if err == nil {
		_, err = st.Recv()
	}
	if status.Code(err) != codes.ResourceExhausted {
		t.Errorf("gRPC watch beside an HTTP one: %v, want ResourceExhausted", err)
	}
	if got := do(a.httpClient(t, vera, true), http.MethodGet, base+"/v1/processes:watch", ""); got.status != http.StatusTooManyRequests {
		t.Errorf("second HTTP watch: %d %s, want 429", got.status, got.body)
	}
}

// TestHTTPSBadInput: malformed requests are 400 with the reason and change
// nothing; they never reach the backend.
func TestHTTPSBadInput(t *testing.T) {
	a := startTLSAgent(t, Limits{}, "")
	base := serveHTTPS(t, a)
	web := a.httpClient(t, a.issue(t, "adam", pki.WithURI("spiffe://remotectl.test/admin/adam")), false)
	for _, tc := range []struct{ name, method, path, body, want string }{
		{"malformed service name", http.MethodPost, "/v1/services/..%2Fx:stop", "", "name"},
		{"unknown body field", http.MethodPost, "/v1/services/nginx:stop", `{"stopDependants": true}`, "stopDependants"},
		{"body not JSON", http.MethodPost, "/v1/services/nginx:stop", `stop it`, "request body"},
		{"oversized body", http.MethodPost, "/v1/services/nginx:stop", `{"name":"` + strings.Repeat("x", MaxRecvMsgSize) + `"}`, "exceeds"},
		{"unknown query parameter", http.MethodGet, "/v1/processes?filter.nme=x", "", "nme"},
		{"bad enum", http.MethodGet, "/v1/processes?sort=BY_SHOE_SIZE", "", "BY_SHOE_SIZE"},
		{"watch with a bad filter", http.MethodGet, "/v1/processes:watch?filter.nameGlob=%5B", "", "glob"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := do(web, tc.method, base+tc.path, tc.body)
			if got.err != nil || got.status != http.StatusBadRequest || !strings.Contains(got.body, tc.want) {
				t.Fatalf("HTTP %d %s (%v), want 400 mentioning %q", got.status, got.body, got.err, tc.want)
			}
		})
	}
	if n := a.mgr.count(); n != 0 {
		t.Errorf("bad requests reached the backend %d times", n)
	}
}

// TestHTTPInsecureModeIsLoopbackPlainHTTP: --insecure serves plain HTTP,
// only on loopback, with the insecure identity, as gRPC does.
func TestHTTPInsecureModeIsLoopbackPlainHTTP(t *testing.T) {
	s, err := New(Config{Insecure: true, Processes: &stubLister{}, Services: &stubManager{},
		Watcher: watchtest.Poll(t, nil, 0), Reporter: agent.NewReporter(context.Background(), nil, nil), Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	wide, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = wide.Close() }()
	if err := s.ServeHTTPS(wide); err == nil {
		t.Fatal("insecure HTTP served on a non-loopback listener")
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.ServeHTTPS(lis) }()
	resp, err := http.Get("http://" + lis.Addr().String() + "/v1/whoami")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	var who struct{ CommonName string }
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &who) != nil || who.CommonName != "insecure-loopback" {
		t.Fatalf("whoami over insecure HTTP: %d %s", resp.StatusCode, body)
	}
}

// TestOpenAPINeedsWhatReflectionNeeds: the document passes the same
// authentication and table entry as gRPC reflection.
func TestOpenAPINeedsWhatReflectionNeeds(t *testing.T) {
	a := startTLSAgent(t, Limits{}, "")
	base := serveHTTPS(t, a)
	got := do(a.httpClient(t, a.issue(t, "mallory"), false), http.MethodGet, base+"/openapi.json", "")
	if got.status != http.StatusOK || !json.Valid([]byte(got.body)) {
		t.Fatalf("an identity with agent.read: HTTP %d", got.status)
	}
	// A request that reached the handler without a verified certificate
	// (impossible through the TLS listener) is refused, not served.
	err := a.srv.schemaAccess(httptest.NewRequest(http.MethodGet, "/openapi.json", nil))
	if status.Code(err) != codes.Unauthenticated {
		t.Fatalf("no certificate: %v, want Unauthenticated", err)
	}
}
