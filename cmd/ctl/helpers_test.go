package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/remotectl/remotectl/internal/pki"
	"github.com/remotectl/remotectl/server"
	"github.com/remotectl/remotectl/server/agent"
	"github.com/remotectl/remotectl/server/process"
	"github.com/remotectl/remotectl/server/service"
	"github.com/remotectl/remotectl/server/watch/watchtest"
)

// testPKI is a CA with a server certificate for the loopback names and a
// client certificate, written into dir with the dev file names.
type testPKI struct {
	dir string
	pki.Paths
	ca *pki.CA
}

func newTestPKI(t *testing.T, serverHosts ...string) *testPKI {
	t.Helper()
	if len(serverHosts) == 0 {
		serverHosts = []string{"localhost", "127.0.0.1"}
	}
	dir := t.TempDir()
	ca, err := pki.NewCA("test CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	p := &testPKI{dir: dir, Paths: pki.DevPaths(dir), ca: ca}
	caKey, err := ca.KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	srvCert, srvKey, err := ca.IssueServer("", serverHosts, 30*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	cliCert, cliKey, err := ca.IssueClient("tester", 30*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for path, data := range map[string][]byte{
		p.CACert: ca.CertPEM(), p.CAKey: caKey, p.ServerCert: srvCert, p.ServerKey: srvKey, p.ClientCert: cliCert, p.ClientKey: cliKey,
	} {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

// tlsArgs are the ctl flags that use this PKI's client identity.
func (p *testPKI) tlsArgs() []string {
	return []string{"--cacert", p.CACert, "--cert", p.ClientCert, "--key", p.ClientKey}
}

// startAgent runs a real in-process agent on 127.0.0.1:0: mutual TLS with
// p, or plaintext (--insecure) when p is nil. It returns HOST:PORT.
// opts adjust the server configuration (e.g. a logs allow-list).
func startAgent(t *testing.T, p *testPKI, opts ...func(*server.Config)) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var tlsCfg *tls.Config
	if p != nil {
		var err error
		if tlsCfg, err = pki.ServerTLSConfig(p.CACert, p.ServerCert, p.ServerKey); err != nil {
			t.Fatal(err)
		}
	}
	lister := process.NewLister()
	svcs := service.NewManager()
	watcher := watchtest.Poll(t, lister, 200*time.Millisecond)
	reporter := agent.NewReporter(ctx, lister.Count, func(ctx context.Context) []agent.Backend {
		st := svcs.Status(ctx)
		return []agent.Backend{
			{Capability: "processes", Implementation: "procfs", Available: true},
			{Capability: "process_watch", Implementation: watcher.Mode(), Available: true},
			{Capability: "services", Implementation: st.Kind, Available: st.Available, Reason: st.Reason},
		}
	})
	cfg := server.Config{
		TLS: tlsCfg, Insecure: p == nil, Logger: zerolog.Nop(),
		Processes: lister, Services: svcs, Watcher: watcher, Reporter: reporter,
	}
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer scancel()
		srv.Shutdown(sctx)
		cancel()
		<-served
		_ = svcs.Close()
	})
	return lis.Addr().String()
}

// result is one ctl run.
type result struct {
	code           int
	stdout, stderr string
}

// runCtl runs ctl in-process with env as its whole environment. The agent's
// state directory defaults to an empty temporary one, so the host's real
// dev certificates never leak into a test.
func runCtl(ctx context.Context, t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	if env == nil {
		env = map[string]string{}
	}
	if _, ok := env["CTLD_STATE_DIR"]; !ok {
		env["CTLD_STATE_DIR"] = filepath.Join(t.TempDir(), "state")
	}
	var out, errb bytes.Buffer
	a := newApp(&out, &errb, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	code := a.run(ctx, args)
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
