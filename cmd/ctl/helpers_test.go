package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/remotectl/remotectl/internal/pki"
	"github.com/remotectl/remotectl/internal/testutil/tlstest"
	"github.com/remotectl/remotectl/server"
	"github.com/remotectl/remotectl/test/agenttest"
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
	p := tlstest.New(t, serverHosts...)
	return &testPKI{dir: p.Dir, Paths: p.Paths, ca: p.CA}
}

// shared is p for the shared test helpers.
func (p *testPKI) shared() *tlstest.PKI { return &tlstest.PKI{Dir: p.dir, Paths: p.Paths, CA: p.ca} }

// tlsArgs are the ctl flags that use this PKI's client identity.
func (p *testPKI) tlsArgs() []string {
	return []string{"--cacert", p.CACert, "--cert", p.ClientCert, "--key", p.ClientKey}
}

// startAgent runs a real in-process agent on 127.0.0.1:0: mutual TLS with
// p, or plaintext (--insecure) when p is nil. It returns HOST:PORT.
// opts adjust the server configuration (e.g. a logs allow-list).
func startAgent(t *testing.T, p *testPKI, opts ...func(*server.Config)) string {
	t.Helper()
	o := []agenttest.Option{agenttest.PollEvery(200 * time.Millisecond)}
	if p == nil {
		o = append(o, agenttest.Plaintext())
	} else {
		o = append(o, agenttest.WithPKI(p.shared()))
	}
	for _, f := range opts {
		o = append(o, agenttest.Configure(f))
	}
	return agenttest.Start(t, o...).Addr
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

// goCtl runs ctl with args in the background, in this process, with an
// empty temporary state directory; its exit code arrives on the channel
// and cancel plays Ctrl-C (the test's end does too).
func goCtl(t *testing.T, stdout, stderr io.Writer, args ...string) (<-chan int, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	code := make(chan int, 1)
	a := newApp(stdout, stderr, envOf(map[string]string{"CTLD_STATE_DIR": t.TempDir()}))
	go func() { code <- a.run(ctx, args) }()
	return code, cancel
}

// bgCtl is ctl running in the background until stopped (a watch or a
// follow) with its output in buffers that waitFor can watch.
type bgCtl struct {
	stdout, stderr syncBuffer
	code           <-chan int
	cancel         context.CancelFunc
}

func startCtl(t *testing.T, args ...string) *bgCtl {
	t.Helper()
	r := &bgCtl{}
	r.code, r.cancel = goCtl(t, &r.stdout, &r.stderr, args...)
	return r
}

// stop plays Ctrl-C and fails the test unless ctl then ends with exit 0
// within 10 s.
func (r *bgCtl) stop(t *testing.T, what string) {
	t.Helper()
	r.cancel()
	select {
	case code := <-r.code:
		if code != 0 {
			t.Fatalf("%s: exit %d after cancel, stderr %q", what, code, r.stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("%s did not end after its context was canceled", what)
	}
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
