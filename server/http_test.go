package server

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/remotectl/remotectl/internal/pki"
	"github.com/remotectl/remotectl/server/httpapi"
)

// serveHTTPS adds the JSON-over-HTTPS listener to a test agent; the
// agent's Shutdown (its cleanup) stops it.
func serveHTTPS(t *testing.T, a *tlsAgent) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = a.srv.ServeHTTPS(lis) }()
	return "https://" + lis.Addr().String()
}

// httpClient trusts the agent's CA and presents pair (nil: no certificate).
func (a *tlsAgent) httpClient(t *testing.T, pair *tls.Certificate, h2 bool) *http.Client {
	t.Helper()
	cfg := &tls.Config{MinVersion: tls.VersionTLS13, RootCAs: a.caPool, ServerName: "127.0.0.1"}
	if pair != nil {
		cfg.Certificates = []tls.Certificate{*pair}
	}
	tr := &http.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: h2}
	if !h2 {
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{} // HTTP/1.1 only
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

type httpAnswer struct {
	status int
	proto  string
	body   string
	err    error
}

func do(c *http.Client, method, url, body string) httpAnswer {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return httpAnswer{err: err}
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		return httpAnswer{err: err}
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	return httpAnswer{status: resp.StatusCode, proto: resp.Proto, body: string(b), err: err}
}

// TestHTTPSRefusedAsGRPC: over HTTP every identity meets the gRPC
// server's interceptors with its own certificate: the same handshake
// refusals, the same denials (403 naming the missing permission) and the
// same audit records, for unary calls (Vanguard) and streams (NDJSON).
func TestHTTPSRefusedAsGRPC(t *testing.T) {
	a := startTLSAgent(t, Limits{}, "")
	base := serveHTTPS(t, a)
	kp := func(c, k []byte, err error) *tls.Certificate { return keyPair(t, c, k, err) }
	other, err := pki.NewCA("test CA", 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	ids := []struct {
		name      string
		pair      *tls.Certificate
		h2        bool
		handshake bool
		list      int    // GET /v1/processes
		stop      int    // POST /v1/services/nginx.service:stop
		watch     int    // GET /v1/processes:watch
		denial    string // in the list refusal
	}{
		{name: "no client cert", handshake: true},
		{name: "other CA", pair: kp(other.IssueClient("olga", time.Hour, pki.WithOU("operators"))), handshake: true},
		{name: "unbound", pair: kp(a.ca.IssueClient("mallory", time.Hour)), list: 403, stop: 403, watch: 403, denial: "missing permission processes.read"},
		{name: "viewer h1", pair: kp(a.ca.IssueClient("vera", time.Hour, pki.WithOU("viewers"))), list: 200, stop: 403, watch: 200},
		{name: "viewer h2", h2: true, pair: kp(a.ca.IssueClient("vic", time.Hour, pki.WithOU("viewers"))), list: 200, stop: 403, watch: 200},
		{name: "operator", pair: kp(a.ca.IssueClient("olga", time.Hour, pki.WithOU("operators"))), list: 200, stop: 200, watch: 200},
	}
	for _, id := range ids {
		t.Run(id.name, func(t *testing.T) {
			before := len(readAudit(t, a.auditPath))
			calls := a.mgr.count()
			c := a.httpClient(t, id.pair, id.h2)
			list := do(c, http.MethodGet, base+"/v1/processes?filter.nameGlob=init&limit=5", "")
			if id.handshake {
				if list.err == nil {
					t.Fatalf("GET without an accepted certificate answered HTTP %d", list.status)
				}
				checkAudit(t, a.auditPath, before, true, 0, 0)
				return
			}
			if list.err != nil || list.status != id.list {
				t.Fatalf("GET /v1/processes: %d %v %s, want %d", list.status, list.err, list.body, id.list)
			}
			if wantProto := map[bool]string{true: "HTTP/2.0", false: "HTTP/1.1"}[id.h2]; list.proto != wantProto {
				t.Errorf("protocol %s, want %s", list.proto, wantProto)
			}
			if id.denial != "" && !strings.Contains(list.body, id.denial) {
				t.Errorf("list refusal %s does not say %q", list.body, id.denial)
			}
			var procs struct{ Processes []struct{ Name string } }
			if id.list == 200 && (json.Unmarshal([]byte(list.body), &procs) != nil || len(procs.Processes) != 1 || procs.Processes[0].Name != "init") {
				t.Errorf("process list %s, want init", list.body)
			}
			stop := do(c, http.MethodPost, base+"/v1/services/nginx.service:stop", `{"timeout":"5s"}`)
			if stop.err != nil || stop.status != id.stop {
				t.Fatalf("POST :stop: %d %v %s, want %d", stop.status, stop.err, stop.body, id.stop)
			}
			if id.stop == 403 && !strings.Contains(stop.body, "missing permission services.control") {
				t.Errorf("stop refusal %s does not name services.control", stop.body)
			}
			wantCalls := calls
			if id.stop == 200 {
				wantCalls++
			}
			if got := a.mgr.count(); got != wantCalls {
				t.Errorf("backend Stop called %d times, want %d", got-calls, wantCalls-calls)
			}
			listCode, stopCode := codeOf(id.list), codeOf(id.stop)
			checkAudit(t, a.auditPath, before, false, listCode, stopCode)
			for _, l := range readAudit(t, a.auditPath)[before:] {
				if !strings.Contains(l.Identity, "CN="+id.pair.Leaf.Subject.CommonName) {
					t.Errorf("audit record identity %q, want the caller's certificate %s", l.Identity, id.pair.Leaf.Subject)
				}
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/processes:watch?includeExisting=true", nil)
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = resp.Body.Close() }()
			if resp.StatusCode != id.watch {
				t.Fatalf("watch: HTTP %d, want %d", resp.StatusCode, id.watch)
			}
			if id.watch != 200 {
				b, _ := io.ReadAll(resp.Body)
				if !strings.Contains(string(b), "missing permission processes.watch") {
					t.Errorf("watch refusal %s does not name processes.watch", b)
				}
				return
			}
			if ct := resp.Header.Get("Content-Type"); ct != httpapi.NDJSONContentType {
				t.Errorf("watch Content-Type %q", ct)
			}
			line, err := bufio.NewReader(resp.Body).ReadBytes('\n')
			if err != nil {
				t.Fatal(err)
			}
			var first struct {
				Result struct {
					Event struct {
						Type    string
						Process struct{ Name string }
					}
				}
			}
			if err := json.Unmarshal(line, &first); err != nil || first.Result.Event.Type != "PROCESS_EVENT_TYPE_EXISTING" || first.Result.Event.Process.Name != "init" {
				t.Errorf("first NDJSON line %s (%v)", line, err)
			}
		})
	}
}

func codeOf(httpStatus int) codes.Code {
	switch httpStatus {
	case http.StatusOK:
		return codes.OK
	case http.StatusForbidden:
		return codes.PermissionDenied
	}
	return codes.Unknown
}
