// Package tlstest is the mutual-TLS plumbing of the tests that run a real
// agent on loopback: a throw-away PKI written with the dev file names, client
// key pairs, a dial that presents any certificate (or none), a server on
// 127.0.0.1:0 stopped when the test ends, and the JSON-lines reader for
// audit files. It does not import the server, so the server's own tests use
// it too.
package tlstest

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/remotectl/remotectl/internal/pki"
)

// Loopback are the names the server certificates carry.
var Loopback = []string{"127.0.0.1", "localhost"}

// PKI is a CA with a server and a client certificate, written into Dir
// under the dev file names (pki.DevPaths).
type PKI struct {
	Dir string
	pki.Paths
	CA *pki.CA
}

// New makes a CA valid a day and leaves valid an hour: a server certificate
// for hosts (default: Loopback) and a client certificate named "tester".
func New(tb testing.TB, hosts ...string) *PKI {
	tb.Helper()
	if len(hosts) == 0 {
		hosts = Loopback
	}
	dir := tb.TempDir()
	ca, err := pki.NewCA("test CA", 24*time.Hour)
	if err != nil {
		tb.Fatal(err)
	}
	p := &PKI{Dir: dir, Paths: pki.DevPaths(dir), CA: ca}
	caKey, err := ca.KeyPEM()
	if err != nil {
		tb.Fatal(err)
	}
	srvCert, srvKey, err := ca.IssueServer("", hosts, time.Hour)
	if err != nil {
		tb.Fatal(err)
	}
	cliCert, cliKey, err := ca.IssueClient("tester", time.Hour)
	if err != nil {
		tb.Fatal(err)
	}
	for path, data := range map[string][]byte{
		p.CACert: ca.CertPEM(), p.CAKey: caKey, p.ServerCert: srvCert, p.ServerKey: srvKey, p.ClientCert: cliCert, p.ClientKey: cliKey,
	} {
		WriteFile(tb, path, data)
	}
	return p
}

// Dev is the daemon's own dev PKI (pki.EnsureDevPKI) in a fresh directory:
// what `make demo` and an unconfigured ctld create.
func Dev(tb testing.TB) *PKI {
	tb.Helper()
	dir := tb.TempDir()
	_, paths, err := pki.EnsureDevPKI(dir, Loopback)
	if err != nil {
		tb.Fatal(err)
	}
	ca, err := pki.LoadCA(paths.CACert, paths.CAKey)
	if err != nil {
		tb.Fatal(err)
	}
	return &PKI{Dir: dir, Paths: paths, CA: ca}
}

// ServerFiles are the server's TLS files, with revoked serials.
func (p *PKI) ServerFiles(revoked ...string) pki.ServerFiles {
	return pki.ServerFiles{CA: p.CACert, Cert: p.ServerCert, Key: p.ServerKey, RevokedSerials: revoked}
}

// ServerTLS loads the server's reloadable TLS material.
func (p *PKI) ServerTLS(tb testing.TB, revoked ...string) *pki.ServerTLS {
	tb.Helper()
	s, err := pki.NewServerTLS(p.ServerFiles(revoked...))
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// KeyPair parses what CA.Issue* returned, failing the test on err.
func KeyPair(tb testing.TB, certPEM, keyPEM []byte, err error) *tls.Certificate {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		tb.Fatal(err)
	}
	return &pair
}

// Dial connects to addr over TLS 1.3 trusting roots and presenting pair;
// a nil pair presents no certificate (the server then refuses the
// handshake). The connection closes when the test ends.
func Dial(tb testing.TB, addr string, roots *x509.CertPool, pair *tls.Certificate) *grpc.ClientConn {
	tb.Helper()
	cfg := &tls.Config{MinVersion: tls.VersionTLS13, RootCAs: roots, ServerName: "127.0.0.1",
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			if pair == nil {
				return &tls.Certificate{}, nil
			}
			return pair, nil
		}}
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = cc.Close() })
	return cc
}

// Server is what Serve runs: the agent's gRPC server.
type Server interface {
	Serve(net.Listener) error
	Shutdown(context.Context)
}

// Serve runs srv on lis (nil: a new listener on 127.0.0.1:0) and returns
// its address and a stop that shuts it down gracefully (within 5 s) and
// returns once Serve has. Stop is idempotent and runs when the test ends.
func Serve(tb testing.TB, srv Server, lis net.Listener) (addr string, stop func()) {
	tb.Helper()
	if lis == nil {
		var err error
		if lis, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			tb.Fatal(err)
		}
	}
	done := make(chan struct{})
	go func() { _ = srv.Serve(lis); close(done) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
	}
	tb.Cleanup(stop)
	return lis.Addr().String(), stop
}

// WriteFile writes data to path (mode 0600), failing the test on error.
func WriteFile(tb testing.TB, path string, data []byte) {
	tb.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		tb.Fatal(err)
	}
}

// JSONLines decodes every line of path (an audit file) into a T.
func JSONLines[T any](tb testing.TB, path string) []T {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	var out []T
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			tb.Fatalf("%s: line %q: %v", path, sc.Text(), err)
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// WaitJSONLines waits until path holds at least n lines and returns them all;
// after within it returns what there is (the caller's assertion says what was
// missing). It re-reads on every change in the file's directory (the sink
// appends; a rotation renames), not on a timer: a server goroutine writes
// handshake records after the client already saw the failure.
func WaitJSONLines[T any](tb testing.TB, path string, n int, within time.Duration) []T {
	tb.Helper()
	w, err := fsnotify.NewWatcher()
	if err != nil {
		tb.Fatal(err)
	}
	defer func() { _ = w.Close() }()
	if err := w.Add(filepath.Dir(path)); err != nil {
		tb.Fatal(err)
	}
	timeout := time.NewTimer(within)
	defer timeout.Stop()
	for {
		lines := JSONLines[T](tb, path)
		if len(lines) >= n {
			return lines
		}
		select {
		case <-w.Events:
		case err := <-w.Errors:
			tb.Fatal(err)
		case <-timeout.C:
			return JSONLines[T](tb, path)
		}
	}
}
