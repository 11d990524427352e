package e2e

import (
	"crypto/rand"
	"encoding/hex"
	"os/exec"
	"testing"

	"github.com/rs/zerolog"

	"github.com/remotectl/remotectl/client"
	"github.com/remotectl/remotectl/internal/pki"
	"github.com/remotectl/remotectl/internal/testutil"
	"github.com/remotectl/remotectl/server"
	"github.com/remotectl/remotectl/test/agenttest"
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
	var o []agenttest.Option
	for _, f := range opts {
		o = append(o, agenttest.Configure(f))
	}
	a := agenttest.Start(tb, o...)
	return &agentUnderTest{addr: a.Addr, certs: a.PKI.Paths, srv: a.Server}
}

// client returns a Go client with the agent's dev client certificate.
func (a *agentUnderTest) client(tb testing.TB, opts ...client.Option) *client.Client {
	tb.Helper()
	return agenttest.Dial(tb, a.addr, a.certs, opts...)
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
	return testutil.NamedSleep(tb, name)
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
