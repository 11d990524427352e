package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/remotectl/remotectl/client"
	"github.com/remotectl/remotectl/internal/pki"
	"github.com/remotectl/remotectl/server"
	"github.com/remotectl/remotectl/server/agent"
	"github.com/remotectl/remotectl/server/process"
	"github.com/remotectl/remotectl/server/service"
	"github.com/remotectl/remotectl/server/watch/watchtest"
)

// agentUnderTest is a real agent listening on 127.0.0.1 with mutual TLS.
type agentUnderTest struct {
	addr  string
	certs pki.Paths
	srv   *server.Server
}

// startAgent serves the real backends on a loopback port with a fresh dev
// PKI and stops the server when the test ends; opts adjust the config.
func startAgent(tb testing.TB, opts ...func(*server.Config)) *agentUnderTest {
	tb.Helper()
	_, paths, err := pki.EnsureDevPKI(tb.TempDir(), []string{"127.0.0.1", "localhost"})
	if err != nil {
		tb.Fatal(err)
	}
	tlsCfg, err := pki.ServerTLSConfig(paths.CACert, paths.ServerCert, paths.ServerKey)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	lister := process.NewLister()
	mgr := service.NewManager()
	cfg := server.Config{
		TLS:       tlsCfg,
		Logger:    zerolog.New(io.Discard),
		Processes: lister,
		Services:  mgr,
		Watcher:   watchtest.Poll(tb, lister, 100*time.Millisecond),
		Reporter:  agent.NewReporter(ctx, lister.Count, nil),
	}
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := server.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = srv.Serve(lis); close(done) }()
	tb.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		srv.Shutdown(sctx)
		<-done
		cancel()
		_ = mgr.Close()
	})
	return &agentUnderTest{addr: lis.Addr().String(), certs: paths, srv: srv}
}

// client returns a Go client with the agent's dev client certificate.
func (a *agentUnderTest) client(tb testing.TB, opts ...client.Option) *client.Client {
	tb.Helper()
	opts = append([]client.Option{client.WithTLSFiles(a.certs.CACert, a.certs.ClientCert, a.certs.ClientKey)}, opts...)
	c, err := client.New(a.addr, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// uniqueName returns a short process name unlikely to collide (comm holds 15 bytes).
func uniqueName(prefix string) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// namedSleep copies sleep(1) under a unique name, so the child can be found
// by name, and returns its path.
func namedSleep(tb testing.TB, name string) string {
	tb.Helper()
	src, err := exec.LookPath("sleep")
	if err != nil {
		tb.Skip("sleep(1) not found")
	}
	data, err := os.ReadFile(src)
	if err != nil {
		tb.Fatal(err)
	}
	dst := filepath.Join(tb.TempDir(), name)
	if err := os.WriteFile(dst, data, 0o755); err != nil {
		tb.Fatal(err)
	}
	return dst
}

// spawn starts a child and kills and reaps it when the test ends.
func spawn(tb testing.TB, path string, args ...string) *exec.Cmd {
	tb.Helper()
	cmd := exec.Command(path, args...)
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd
}

// unlimitedReads lifts the per-identity read budget (50 calls/s by default)
// for throughput benchmarks, which call as one identity on purpose.
func unlimitedReads(c *server.Config) {
	c.Limits.ReadsPerSecond, c.Limits.ReadBurst = 1e9, 1e9
}

// daemonLogLevel logs at ctld's default level (info, where successful reads
// are not logged) instead of the test logger's debug: throughput figures
// then measure the chain as ctld runs it.
func daemonLogLevel(c *server.Config) { c.Logger = c.Logger.Level(zerolog.InfoLevel) }
