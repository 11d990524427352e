package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"time"

	"github.com/kardianos/service"
	"github.com/rs/zerolog"

	"github.com/remotectl/remotectl/internal/defaults"
	"github.com/remotectl/remotectl/internal/pki"
	"github.com/remotectl/remotectl/internal/securefs"
	"github.com/remotectl/remotectl/internal/version"
	"github.com/remotectl/remotectl/server"
	"github.com/remotectl/remotectl/server/agent"
	"github.com/remotectl/remotectl/server/audit"
	"github.com/remotectl/remotectl/server/metrics"
	"github.com/remotectl/remotectl/server/process"
	svcmgr "github.com/remotectl/remotectl/server/service"
	"github.com/remotectl/remotectl/server/watch"
)

// daemon is the kardianos/service program: Start returns at once, Stop drains.
type daemon struct {
	cfg       Config
	log       zerolog.Logger
	logCloser io.Closer

	srv      *server.Server
	metrics  *metrics.Endpoint
	services svcmgr.Manager
	watcher  *watch.Engine

	// load re-reads the configuration (SIGHUP); nil disables config reload.
	load      func() (Config, error)
	serverTLS *pki.ServerTLS
	tlsFiles  TLSConfig
	audit     *audit.Sink
	cancel    context.CancelFunc
	served    chan error
}

var _ service.Interface = (*daemon)(nil)

// Start sets everything up synchronously (so a busy port or bad certificate
// fails the start with a clear error) and serves in the background.
func (d *daemon) Start(service.Service) error {
	if d.cfg.GOMAXPROCS > 0 {
		runtime.GOMAXPROCS(d.cfg.GOMAXPROCS)
	}
	ctx, cancel := context.WithCancel(context.Background())
	d.cancel = cancel
	// Whoever controls the state dir controls the agent (config, CA, keys,
	// audit log): it must be ours and writable by nobody else.
	if err := securefs.EnsureDir(d.cfg.StateDir); err != nil {
		return fmt.Errorf("state dir: %w", err)
	}
	tlsCfg, devPKI, err := d.tlsConfig()
	if err != nil {
		return err
	}
	lister := process.NewLister()
	d.services = svcmgr.NewManager()
	// One process event producer for the host, shared by every stream.
	watcher := watch.NewEngine(watch.Config{Lister: lister, Interval: d.cfg.PollInterval})
	d.watcher = watcher
	d.log.Info().Str("mode", watcher.Mode()).Msg("process watch producer")
	reporter := agent.NewReporter(ctx, lister.Count, func(ctx context.Context) []agent.Backend {
		return backends(ctx, lister, d.services, watcher)
	})
	var m *metrics.Metrics
	if d.cfg.MetricsListen != "" {
		m = metrics.New()
	}
	policy, sink, err := d.authzAndAudit()
	if err != nil {
		return err
	}
	var serverCert func() *x509.Certificate
	if d.serverTLS != nil {
		serverCert = d.serverTLS.Certificate
	}
	logReader, err := d.cfg.Logs.reader()
	if err != nil {
		return err
	}
	srv, err := server.New(server.Config{
		TLS: tlsCfg, Insecure: d.cfg.Insecure, Logger: d.log,
		Processes: lister, Services: d.services, Watcher: watcher, Reporter: reporter, Metrics: m,
		Policy: policy, Audit: sink, ServerCert: serverCert, Logs: logReader,
		Limits: server.Limits{MutationsPerSecond: d.cfg.Limits.MutationsPerSecond,
			MutationBurst: d.cfg.Limits.MutationBurst, StreamsPerIdentity: d.cfg.Limits.StreamsPerIdentity},
	})
	if err != nil {
		return err
	}
	lis, err := net.Listen("tcp", d.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", d.cfg.Listen, err)
	}
	// The name may resolve to a non-loopback address: check what was bound,
	// so an insecure agent fails to start instead of logging "started" and
	// then refusing to serve.
	if d.cfg.Insecure && !server.IsLoopbackAddress(lis.Addr().String()) {
		_ = lis.Close()
		return fmt.Errorf("--insecure only serves on loopback; %s bound %s", d.cfg.Listen, lis.Addr())
	}
	httpLis, err := d.listenHTTP()
	if err != nil {
		_ = lis.Close()
		return err
	}
	if m != nil {
		if d.metrics, err = m.Serve(d.cfg.MetricsListen); err != nil {
			_ = lis.Close()
			if httpLis != nil {
				_ = httpLis.Close()
			}
			return err
		}
		d.log.Info().Str("metrics", "http://"+d.metrics.Addr().String()+"/metrics").Msg("serving Prometheus metrics")
	}
	d.srv, d.served = srv, make(chan error, 1)
	// The first CPU-percent listing needs a baseline sample; take it now so
	// no caller waits for it.
	go func() { _ = lister.Prime(ctx) }()
	go func() { d.served <- srv.Serve(lis) }()
	if httpLis != nil {
		go d.serveHTTP(srv, httpLis)
	}
	d.startReloading(ctx)
	if devPKI != nil {
		d.log.Info().Str("ctl", ctlHint(lis.Addr().String(), *devPKI)).Msg("connect with ctl")
	}
	st := d.services.Status(ctx)
	d.log.Info().Str("version", version.String()).Str("listen", lis.Addr().String()).
		Bool("mtls", !d.cfg.Insecure).Str("services", st.Kind).Bool("services_available", st.Available).
		Str("services_reason", st.Reason).Int("gomaxprocs", runtime.GOMAXPROCS(0)).Msg("ctld started")
	return nil
}

// Stop drains in-flight calls and streams for up to ShutdownTimeout.
func (d *daemon) Stop(service.Service) error {
	if d.srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), d.cfg.ShutdownTimeout)
	defer cancel()
	start := time.Now()
	d.srv.Shutdown(ctx)
	if d.metrics != nil {
		_ = d.metrics.Close(ctx)
	}
	d.cancel()
	err := <-d.served
	_ = d.services.Close()
	d.watcher.Close()
	d.log.Info().Dur("drain", time.Since(start)).Msg("ctld stopped")
	_ = d.audit.Close()
	if d.logCloser != nil {
		_ = d.logCloser.Close()
	}
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return err
	}
	return nil
}

// tlsConfig loads the configured certificates, or creates the dev PKI in
// STATE_DIR/certs on first run (and then returns its paths).
func (d *daemon) tlsConfig() (*tls.Config, *pki.Paths, error) {
	if d.cfg.Insecure {
		if !server.IsLoopbackAddress(d.cfg.Listen) {
			return nil, nil, fmt.Errorf("--insecure only binds to loopback (e.g. 127.0.0.1:%s), not %q", defaults.Port, d.cfg.Listen)
		}
		d.log.Warn().Str("listen", d.cfg.Listen).Msg("INSECURE MODE: plaintext gRPC without client authentication; anyone on this host can stop services. Never use this outside local experiments.")
		return nil, nil, nil
	}
	t := d.cfg.TLS
	var dev *pki.Paths
	if t.CA == "" {
		dir := defaults.CertsDir(d.cfg.StateDir)
		created, p, err := pki.EnsureDevPKI(dir, devHosts(d.cfg.Listen))
		if err != nil {
			return nil, nil, fmt.Errorf("dev certificates in %s: %w", dir, err)
		}
		if created {
			d.log.Warn().Str("dir", dir).Msg("first run: created a development CA, server and client certificate; use your own PKI in production (see certs/README.md)")
		}
		t, dev = TLSConfig{CA: p.CACert, Cert: p.ServerCert, Key: p.ServerKey}, &p
	}
	st, err := pki.NewServerTLS(pki.ServerFiles{CA: t.CA, Cert: t.Cert, Key: t.Key, CRL: d.cfg.TLS.CRL, RevokedSerials: d.cfg.TLS.RevokedSerials})
	if err != nil {
		return nil, nil, err
	}
	d.tlsFiles, d.serverTLS = t, st
	return st.Config(), dev, nil
}

// devHosts are the names the dev server certificate is valid for: the
// machine's names and addresses plus an explicit listen host.
func devHosts(listen string) []string {
	hosts := pki.DefaultHosts()
	if h, _, err := net.SplitHostPort(listen); err == nil && h != "" && h != "0.0.0.0" && h != "::" {
		hosts = append(hosts, h)
	}
	return hosts
}

func ctlHint(listen string, p pki.Paths) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "ctl --cacert " + p.CACert + " --cert " + p.ClientCert + " --key " + p.ClientKey + " heartbeat"
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return fmt.Sprintf("ctl --host %s --cacert %s --cert %s --key %s heartbeat",
		net.JoinHostPort(host, port), p.CACert, p.ClientCert, p.ClientKey)
}

func backends(ctx context.Context, l *process.SystemLister, mgr svcmgr.Manager, w watch.ProcessWatcher) []agent.Backend {
	st := mgr.Status(ctx)
	return []agent.Backend{
		{Capability: "processes", Implementation: l.Implementation(), Available: true},
		{Capability: "process_watch", Implementation: w.Mode(), Available: true},
		{Capability: "services", Implementation: st.Kind, Available: st.Available, Reason: st.Reason},
	}
}

// isLoopbackListen: the one loopback rule of the server package.
func isLoopbackListen(addr string) bool { return server.IsLoopbackAddress(addr) }
