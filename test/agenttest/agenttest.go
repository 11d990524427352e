// Package agenttest runs real agents for the end-to-end and CLI tests, as
// net/http/httptest runs servers: the real process lister and service
// manager behind the gRPC server, mutual TLS on a 127.0.0.1 port, and
// everything stopped when the test ends. Options cover what the suites vary:
// the PKI, a policy and audit file (through Configure), revoked serials and
// reloading TLS files, a fixed address, and the watch engine.
package agenttest

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/remotectl/remotectl/client"
	"github.com/remotectl/remotectl/internal/pki"
	"github.com/remotectl/remotectl/internal/testutil"
	"github.com/remotectl/remotectl/internal/testutil/tlstest"
	"github.com/remotectl/remotectl/server"
	"github.com/remotectl/remotectl/server/agent"
	"github.com/remotectl/remotectl/server/process"
	"github.com/remotectl/remotectl/server/service"
	"github.com/remotectl/remotectl/server/watch"
	"github.com/remotectl/remotectl/server/watch/watchtest"
)

// Agent is a real agent serving on Addr.
type Agent struct {
	Addr string
	// PKI issued the server's certificate and holds a client one; nil
	// for a plaintext agent.
	PKI *tlstest.PKI
	// TLS is the server's reloadable TLS material (nil: plaintext).
	TLS    *pki.ServerTLS
	Server *server.Server
	// WatchMode is the process watcher's mode ("poll", "netlink").
	WatchMode string
	stop      func()
}

type options struct {
	pki       *tlstest.PKI
	plaintext bool
	revoked   []string
	reload    time.Duration
	addr      string
	poll      time.Duration
	engine    *watch.Config
	configure []func(*server.Config)
}

// Option adjusts Start.
type Option func(*options)

// WithPKI serves p's server certificate (default: a fresh tlstest.Dev).
func WithPKI(p *tlstest.PKI) Option { return func(o *options) { o.pki = p } }

// Plaintext serves without TLS (the server's Insecure mode).
func Plaintext() Option { return func(o *options) { o.plaintext = true } }

// Revoked refuses client certificates with these serials (hex).
func Revoked(serials ...string) Option { return func(o *options) { o.revoked = serials } }

// ReloadTLS re-reads the TLS files every d, as the daemon does.
func ReloadTLS(d time.Duration) Option { return func(o *options) { o.reload = d } }

// Listen serves on addr instead of 127.0.0.1:0, retrying for up to 5 s
// while a previous agent's port is still being freed.
func Listen(addr string) Option { return func(o *options) { o.addr = addr } }

// PollEvery polls the process table every d for watches (default 100 ms).
func PollEvery(d time.Duration) Option { return func(o *options) { o.poll = d } }

// Engine serves watches from the daemon's engine (netlink when root)
// configured by cfg, instead of a polling one; cfg.Lister is filled in.
func Engine(cfg watch.Config) Option { return func(o *options) { o.engine = &cfg } }

// Configure adjusts the server configuration last (policy, audit, limits).
func Configure(f func(*server.Config)) Option {
	return func(o *options) { o.configure = append(o.configure, f) }
}

// Start serves a real agent until the test ends.
func Start(tb testing.TB, opts ...Option) *Agent {
	tb.Helper()
	o := options{poll: 100 * time.Millisecond}
	for _, f := range opts {
		f(&o)
	}
	a := &Agent{}
	ctx, cancel := context.WithCancel(context.Background())
	cfg := server.Config{Insecure: o.plaintext, Logger: zerolog.New(io.Discard)} // every level built, written nowhere: the chain does its real work
	if !o.plaintext {
		if a.PKI = o.pki; a.PKI == nil {
			a.PKI = tlstest.Dev(tb)
		}
		a.TLS = a.PKI.ServerTLS(tb, o.revoked...)
		cfg.TLS, cfg.ServerCert = a.TLS.Config(), a.TLS.Certificate
		if o.reload > 0 {
			go a.TLS.Watch(ctx, o.reload, func(error) {})
		}
	}
	lister := process.NewLister()
	svcs := service.NewManager()
	var engine *watch.Engine
	if o.engine != nil {
		o.engine.Lister = lister
		engine = watch.NewEngine(*o.engine)
	} else {
		engine = watchtest.Poll(tb, lister, o.poll)
	}
	a.WatchMode = engine.Mode()
	cfg.Processes, cfg.Services, cfg.Watcher = lister, svcs, engine
	cfg.Reporter = agent.NewReporter(ctx, lister.Count, func(ctx context.Context) []agent.Backend {
		st := svcs.Status(ctx)
		return []agent.Backend{
			{Capability: "processes", Implementation: "procfs", Available: true},
			{Capability: "process_watch", Implementation: engine.Mode(), Available: true},
			{Capability: "services", Implementation: st.Kind, Available: st.Available, Reason: st.Reason},
		}
	})
	for _, f := range o.configure {
		f(&cfg)
	}
	srv, err := server.New(cfg)
	if err != nil {
		cancel()
		tb.Fatal(err)
	}
	a.Server = srv
	var serveStop func()
	a.Addr, serveStop = tlstest.Serve(tb, srv, listen(tb, o.addr))
	stopped := false
	a.stop = func() {
		if stopped {
			return
		}
		stopped = true
		serveStop()
		if o.engine != nil {
			engine.Close()
		}
		cancel()
		_ = svcs.Close()
	}
	tb.Cleanup(a.stop)
	return a
}

// Stop shuts the agent down now (a daemon going away); the test's cleanup
// would otherwise. Start with Listen(a.Addr) brings one back.
func (a *Agent) Stop() { a.stop() }

// listen opens addr ("" is 127.0.0.1:0); a fixed port a stopped agent just
// held may take a moment to free, and nothing announces when it does.
func listen(tb testing.TB, addr string) net.Listener {
	tb.Helper()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var lis net.Listener
	var err error
	if !testutil.Poll(5*time.Second, func() bool { lis, err = net.Listen("tcp", addr); return err == nil }) {
		tb.Fatalf("listen %s: %v", addr, err)
	}
	return lis
}

// Dial is a Go client of the agent at addr with the client certificate of
// certs (an agent started here, or a ctld run as a program), closed when
// the test ends.
func Dial(tb testing.TB, addr string, certs pki.Paths, opts ...client.Option) *client.Client {
	tb.Helper()
	opts = append([]client.Option{client.WithTLSFiles(certs.CACert, certs.ClientCert, certs.ClientKey)}, opts...)
	c, err := client.New(addr, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = c.Close() })
	return c
}
