package server

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/remotectl/remotectl/client"
	"github.com/remotectl/remotectl/internal/pki"
	"github.com/remotectl/remotectl/internal/testutil/tlstest"
	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
	"github.com/remotectl/remotectl/server/agent"
	"github.com/remotectl/remotectl/server/audit"
	"github.com/remotectl/remotectl/server/authz"
	"github.com/remotectl/remotectl/server/logs"
	"github.com/remotectl/remotectl/server/process"
	"github.com/remotectl/remotectl/server/watch/watchtest"
)

// logAgent is a TLS agent serving the logs under dir, with operators
// limited to dir/app/*.
type logAgent struct {
	*tlsAgent
	dir   string
	serve func(t *testing.T, addr string) (string, func())
	stop  func()
}

func startLogAgent(t *testing.T) *logAgent {
	t.Helper()
	base := startTLSAgent(t, Limits{}, "")
	dir := t.TempDir()
	reader, err := logs.New(logs.Config{Allow: []string{dir + "/**"}})
	if err != nil {
		t.Fatal(err)
	}
	policy, err := authz.New(authz.Config{
		Bindings: []authz.Binding{
			{OU: "viewers", Role: authz.RoleViewer},
			{OU: "operators", Role: authz.RoleOperator},
			{URIPrefix: "spiffe://remotectl.test/admin/", Role: authz.RoleAdmin},
		},
		RoleLogsAllow: map[string][]string{authz.RoleOperator: {dir + "/app/*"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	sink, err := audit.Open(base.auditPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sink.Close() })
	procs := &stubLister{procs: []process.Process{{PID: 1, Name: "init"}}}
	la := &logAgent{dir: dir}
	la.serve = func(t *testing.T, addr string) (string, func()) {
		srv, err := New(Config{
			TLS: base.tls.Config(), Logger: zerolog.Nop(), Processes: procs, Services: base.mgr,
			Watcher:  watchtest.Poll(t, procs, time.Hour),
			Reporter: agent.NewReporter(context.Background(), nil, nil),
			Policy:   policy, Audit: sink, Logs: reader,
		})
		if err != nil {
			t.Fatal(err)
		}
		lis, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		return tlstest.Serve(t, srv, lis)
	}
	a := *base
	a.addr, la.stop = la.serve(t, "127.0.0.1:0")
	la.tlsAgent = &a
	return la
}

func (a *logAgent) client(t *testing.T, pair *tls.Certificate) *client.Client {
	t.Helper()
	return client.NewWithConn(a.conn(t, pair))
}

func fileSource(p string) *pb.LogSource { return &pb.LogSource{Kind: &pb.LogSource_File{File: p}} }

func TestLogAccessRules(t *testing.T) {
	a := startLogAgent(t)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(a.dir, "app"), 0o755))
	must(os.WriteFile(filepath.Join(a.dir, "app", "a.log"), []byte("app line\n"), 0o644))
	must(os.WriteFile(filepath.Join(a.dir, "auth.log"), []byte("secret line\n"), 0o644))
	// A symlink in the operator's directory to a file outside it.
	must(os.Symlink(filepath.Join(a.dir, "auth.log"), filepath.Join(a.dir, "app", "sneaky.log")))
	kp := func(c, k []byte, err error) *tls.Certificate { return keyPair(t, c, k, err) }
	viewer := kp(a.ca.IssueClient("vera", time.Hour, pki.WithOU("viewers")))
	operator := kp(a.ca.IssueClient("olga", time.Hour, pki.WithOU("operators")))
	admin := kp(a.ca.IssueClient("adam", time.Hour, pki.WithURI("spiffe://remotectl.test/admin/adam")))
	cases := []struct {
		name     string
		pair     *tls.Certificate
		path     string
		code     codes.Code
		inReason string
	}{
		{"viewer lacks logs.read", viewer, filepath.Join(a.dir, "app", "a.log"), codes.PermissionDenied, "missing permission logs.read"},
		{"operator in its list", operator, filepath.Join(a.dir, "app", "a.log"), codes.OK, ""},
		{"operator outside its list", operator, filepath.Join(a.dir, "auth.log"), codes.PermissionDenied, "role_logs_allow"},
		{"operator through a symlink", operator, filepath.Join(a.dir, "app", "sneaky.log"), codes.PermissionDenied, "role_logs_allow"},
		{"operator with ..", operator, filepath.Join(a.dir, "app", "..", "auth.log"), codes.PermissionDenied, "role_logs_allow"},
		{"admin anywhere on the agent's list", admin, filepath.Join(a.dir, "auth.log"), codes.OK, ""},
		{"admin: /etc/shadow is not on the list", admin, "/etc/shadow", codes.PermissionDenied, "never served"},
		{"admin: /etc/passwd is not on the list", admin, "/etc/passwd", codes.PermissionDenied, "logs allow-list (" + a.dir + "/**)"},
		{"admin: /proc", admin, "/proc/self/environ", codes.PermissionDenied, "never served"},
		{"admin: missing file", admin, filepath.Join(a.dir, "nope.log"), codes.NotFound, ""},
		{"relative path", admin, "var/log/x", codes.InvalidArgument, "not absolute"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := len(readAudit(t, a.auditPath))
			cl := a.client(t, c.pair)
			_, err := cl.ReadLogs(context.Background(), &pb.ReadLogsRequest{Source: fileSource(c.path)})
			if got := status.Code(err); got != c.code || !strings.Contains(fmt.Sprint(err), c.inReason) {
				t.Fatalf("ReadLogs(%s) = %v (%v), want %v containing %q", c.path, got, err, c.code, c.inReason)
			}
			if c.code == codes.InvalidArgument {
				return // malformed requests are not accesses
			}
			lines := readAudit(t, a.auditPath)
			if len(lines) != before+1 {
				t.Fatalf("audit grew by %d records, want 1", len(lines)-before)
			}
			r := lines[len(lines)-1]
			wantEvent := audit.EventAccess
			if c.code == codes.PermissionDenied {
				wantEvent = audit.EventDenied
			}
			if r.Event != wantEvent || r.Outcome != c.code.String() || r.Permission != "logs.read" || !strings.Contains(r.Method, "ReadLogs") {
				t.Fatalf("audit record %+v, want event %s outcome %s", r, wantEvent, c.code)
			}
			if c.code != codes.PermissionDenied || c.inReason != "missing permission logs.read" {
				if r.Target != filepath.Clean(c.path) {
					t.Fatalf("audit target %q, want %q", r.Target, filepath.Clean(c.path))
				}
			}
		})
	}
}

// TestFollowLogsOverTLS follows a file through a rotation with the Go
// client and checks the access records of the follow.
func TestFollowLogsOverTLS(t *testing.T) {
	a := startLogAgent(t)
	path := filepath.Join(a.dir, "app", "f.log")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	c, k, err := a.ca.IssueClient("olga", time.Hour, pki.WithOU("operators"))
	pair := keyPair(t, c, k, err)
	cl := a.client(t, pair)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	fctx, stop := context.WithCancel(ctx)
	defer stop()
	f, err := cl.FollowLogs(fctx, &pb.FollowLogsRequest{Source: fileSource(path)}, client.FollowOptions{})
	if err != nil {
		t.Fatal(err)
	}
	const n = 500
	go func() {
		for i := 0; i < n; i++ {
			if i == n/2 {
				_ = os.Rename(path, path+".1")
			}
			fh, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
			if err != nil {
				return
			}
			_, _ = fmt.Fprintf(fh, "line %06d\n", i)
			_ = fh.Close()
		}
	}()
	i := 0
	for e := range f.Entries() {
		if want := fmt.Sprintf("line %06d", i); e.GetMessage() != want {
			t.Fatalf("entry %d = %q, want %q", i, e.GetMessage(), want)
		}
		if i++; i == n {
			stop()
		}
	}
	if i != n || f.Err() != nil {
		t.Fatalf("got %d entries, err %v", i, f.Err())
	}
	lines := waitAudit(t, a.auditPath, 2)
	var msgs []string
	for _, l := range lines {
		if l.Event == audit.EventAccess && l.Target == path {
			msgs = append(msgs, l.Message)
		}
	}
	if len(msgs) != 2 || msgs[0] != "follow started" || !strings.HasPrefix(msgs[1], "follow ended after") {
		t.Fatalf("access records %q, want a start and an end", msgs)
	}
}

// TestFollowLogsResumesAcrossRestart: the agent restarts in the middle of
// a follow; client.FollowLogs reconnects with the last cursor and the
// caller sees every line once, in order.
func TestFollowLogsResumesAcrossRestart(t *testing.T) {
	a := startLogAgent(t)
	path := filepath.Join(a.dir, "app", "r.log")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(from, to int) {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = f.Close() }()
		for i := from; i < to; i++ {
			_, _ = fmt.Fprintf(f, "line %06d\n", i)
		}
	}
	write(0, 0)
	c, k, err := a.ca.IssueClient("olga", time.Hour, pki.WithOU("operators"))
	cl := a.client(t, keyPair(t, c, k, err))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	reconnects := make(chan error, 10)
	f, err := cl.FollowLogs(ctx, &pb.FollowLogsRequest{Source: fileSource(path)}, client.FollowOptions{
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond,
		OnReconnect: func(err error, _ time.Duration) {
			select {
			case reconnects <- err:
			default: // keep the first few
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	next := func(i int) {
		t.Helper()
		select {
		case e, ok := <-f.Entries():
			if !ok {
				t.Fatalf("follow ended: %v", f.Err())
			}
			if want := fmt.Sprintf("line %06d", i); e.GetMessage() != want {
				t.Fatalf("entry %d = %q, want %q", i, e.GetMessage(), want)
			}
		case <-ctx.Done():
			t.Fatalf("entry %d never arrived; %d reconnect attempts", i, len(reconnects))
		}
	}
	write(0, 100)
	for i := 0; i < 100; i++ {
		next(i)
	}
	a.stop() // the agent goes away; lines keep being written
	write(100, 200)
	a.serve(t, a.addr)
	for i := 100; i < 200; i++ {
		next(i)
	}
	if len(reconnects) == 0 {
		t.Fatal("the client never reconnected")
	}
	cancel()
	for range f.Entries() {
	}
	if f.Err() != nil {
		t.Fatalf("follow error after cancel: %v", f.Err())
	}
}
