// Package server wires the remotectl gRPC API: TLS, the interceptor chain
// (logging, recovery, authentication), the v1 services, health and reflection.
// Domain logic lives in the subpackages (process, service, agent, watch); the
// adapters here only validate, call the domain, convert and map errors.
package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math"
	"net"
	"time"

	"github.com/rs/zerolog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"

	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
	"github.com/remotectl/remotectl/server/agent"
	"github.com/remotectl/remotectl/server/audit"
	"github.com/remotectl/remotectl/server/authz"
	svcguard "github.com/remotectl/remotectl/server/guard"
	"github.com/remotectl/remotectl/server/logs"
	"github.com/remotectl/remotectl/server/metrics"
	"github.com/remotectl/remotectl/server/process"
	"github.com/remotectl/remotectl/server/service"
	"github.com/remotectl/remotectl/server/watch"
)

// Limits. Requests are small; responses can carry thousands of processes.
const (
	MaxRecvMsgSize       = 1 << 20
	MaxSendMsgSize       = 64 << 20
	MaxConcurrentStreams = 1024 // per connection; Limits.OpenStreamsPerIdentity caps each identity across connections
	// HandshakeTimeout bounds the TLS handshake of a new connection.
	HandshakeTimeout = 10 * time.Second
	// KeepaliveMinTime is the most frequent client ping tolerated; the Go
	// client pings every 30 s, so well-behaved clients are never sent GOAWAY.
	KeepaliveMinTime = 15 * time.Second
	// KeepaliveTimeout is how long a keepalive ping may go unanswered, and
	// the TCP_USER_TIMEOUT of every connection (unacknowledged data).
	KeepaliveTimeout = 20 * time.Second
	// MaxConnectionAge sends a client GOAWAY after this long, so every
	// connection re-handshakes (and is verified against the current CA
	// bundle and revocation list) at least this often; streams get
	// MaxConnectionAgeGrace to finish, and followers reconnect.
	MaxConnectionAge      = 12 * time.Hour
	MaxConnectionAgeGrace = time.Minute
	// healthPollInterval is how often backend availability is re-checked.
	healthPollInterval = 15 * time.Second
)

// Config holds what New needs. Processes, Services, Watcher and Reporter are required.
type Config struct {
	// TLS is the mutual-TLS server configuration; required unless Insecure.
	TLS *tls.Config
	// Insecure serves plaintext without client authentication. Serve refuses
	// it on anything but a loopback listener.
	Insecure bool
	Logger   zerolog.Logger

	Processes process.Lister
	Services  service.Manager
	Watcher   watch.ProcessWatcher
	Reporter  *agent.Reporter
	// ServiceWatcher streams service state changes; nil means
	// service.NewWatcher(), which connects only while anyone watches.
	ServiceWatcher service.Watcher
	// Metrics, when set, records RPC and backend metrics; nil disables them.
	Metrics *metrics.Metrics

	// Policy decides who may call what. nil means authz.AllVerifiedAdmin()
	// (every verified client is admin, the behaviour before authorization
	// existed); ctld always passes the policy from its config, whose
	// default binds only the dev PKI's admin client. In Insecure mode
	// every caller is admin.
	Policy *authz.Policy
	// Audit receives a record per mutation and per denial; nil discards
	// (tests only: ctld always opens a sink).
	Audit *audit.Sink
	// Limits are the per-identity rate and stream limits.
	Limits Limits
	// ServerCert reports the certificate currently served, for Heartbeat;
	// nil when unknown.
	ServerCert func() *x509.Certificate
	// Signaler signals processes by identity; nil means process.NewSignaler().
	Signaler process.Signaler
	// Logs serves LogService; nil means logs.New with the default
	// allow-list (/var/log/** and the journal; Windows: classic channels).
	Logs logs.Reader
}

// Server is a configured remotectl gRPC server.
type Server struct {
	grpc     *grpc.Server
	health   *health.Server
	services service.Manager
	log      zerolog.Logger
	insecure bool
	stop     chan struct{}
	guard    *guard
	conns    *liveConns
	hs       *handshakes // nil in insecure mode
	gate     *streamGate
	tls      *tls.Config // also serves HTTPS (http.go)
	// unary and unaryChain serve HTTP unary calls in process (http_invoke.go).
	unary      map[string]unaryMethod
	unaryChain grpc.UnaryServerInterceptor
	http       httpFront
}

// New builds the server. It does not listen; call Serve.
func New(cfg Config) (*Server, error) {
	if cfg.Processes == nil || cfg.Services == nil || cfg.Watcher == nil || cfg.Reporter == nil {
		return nil, errors.New("server: Processes, Services, Watcher and Reporter are required")
	}
	if cfg.TLS == nil && !cfg.Insecure {
		return nil, errors.New("server: a TLS configuration is required (plaintext needs the explicit insecure mode)")
	}
	policy := cfg.Policy
	if policy == nil {
		policy = authz.AllVerifiedAdmin()
	}
	if cfg.Insecure {
		policy = policy.WithBinding(authz.Binding{CN: insecureIdentity.CommonName, Role: authz.RoleAdmin})
	}
	g := newGuard(policy, cfg.Audit, cfg.Services, cfg.Limits, cfg.Logger)
	backend := cfg.Services
	g.procs, g.protect = cfg.Processes, process.HostProtection()
	signaler, startTypes := signalBackends(cfg)
	if cfg.ServerCert == nil && cfg.TLS != nil {
		cfg.ServerCert = servedLeaf(cfg.TLS)
	}
	unary, stream := interceptors(cfg.Logger, cfg.Insecure, g)
	if m := cfg.Metrics; m != nil {
		mu, ms := m.Interceptors()
		unary, stream = append([]grpc.UnaryServerInterceptor{mu}, unary...), append([]grpc.StreamServerInterceptor{ms}, stream...)
		cfg.Processes, cfg.Services = m.Lister(cfg.Processes), m.Services(cfg.Services)
	}
	// Service changes are authorized, rate limited and audited by one
	// decorator, built after the metrics wrapper; it resolves impacts on
	// the bare backend (the wrapper hides the resolver).
	changes := svcguard.Services(cfg.Services, svcguard.Config{Policy: g.policy.Load, Audit: cfg.Audit,
		Limiter: g.changes, Resolver: backend, Log: cfg.Logger})
	gate := newStreamGate(g.limits.OpenStreamsPerIdentity, g.limits.RequestTimeout, cfg.Logger)
	opts := []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(unary...),
		grpc.ChainStreamInterceptor(stream...),
		grpc.MaxRecvMsgSize(MaxRecvMsgSize),
		grpc.MaxSendMsgSize(MaxSendMsgSize),
		grpc.MaxConcurrentStreams(MaxConcurrentStreams),
		grpc.InTapHandle(gate.tap),
		grpc.ConnectionTimeout(HandshakeTimeout),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: KeepaliveMinTime, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{
			MaxConnectionIdle:     time.Duration(math.MaxInt64), // controllers hold connections open
			Time:                  2 * time.Minute,
			Timeout:               KeepaliveTimeout,
			MaxConnectionAge:      MaxConnectionAge,
			MaxConnectionAgeGrace: MaxConnectionAgeGrace,
		}),
	}
	conns := &liveConns{}
	stop := make(chan struct{})
	var hsAudit *handshakes
	if !cfg.Insecure {
		creds := newAuditedCreds(credentials.NewTLS(cfg.TLS), g, conns)
		opts = append(opts, grpc.Creds(creds))
		hsAudit = creds.handshakes
		ctx, cancel := context.WithCancel(context.Background())
		go func() { <-stop; cancel() }()
		go creds.flushEvery(ctx, HandshakeAuditInterval)
	}
	gs := grpc.NewServer(opts...)
	reg := &methodRecorder{Server: gs, unary: map[string]unaryMethod{}}
	pb.RegisterProcessServiceServer(reg, &processAPI{lister: cfg.Processes, watcher: cfg.Watcher, draining: stop,
		mayReadArgv: g.mayReadArgv, signaler: signaler})
	svcWatcher := cfg.ServiceWatcher
	if svcWatcher == nil {
		svcWatcher = service.NewWatcher()
	}
	pb.RegisterServiceManagerServer(reg, &serviceAPI{mgr: changes, watcher: svcWatcher, draining: stop, startTypes: startTypes})
	pb.RegisterAgentServiceServer(reg, &agentAPI{reporter: cfg.Reporter, guard: g, serverCert: cfg.ServerCert})
	if cfg.Logs == nil {
		l, err := logs.New(logs.Config{})
		if err != nil {
			return nil, err
		}
		cfg.Logs = l
	}
	pb.RegisterLogServiceServer(reg, &logAPI{reader: cfg.Logs, guard: g, draining: stop})
	hs := health.NewServer()
	healthpb.RegisterHealthServer(reg, hs)
	registerReflection(gs)
	if cfg.Metrics != nil {
		cfg.Metrics.InitializeMetrics(gs)
	}

	s := &Server{grpc: gs, unary: reg.unary, unaryChain: chainUnary(unary), health: hs, services: cfg.Services, log: cfg.Logger, insecure: cfg.Insecure, stop: stop, guard: g, conns: conns, hs: hsAudit, gate: gate, tls: cfg.TLS}
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	hs.SetServingStatus(pb.ProcessService_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
	hs.SetServingStatus(pb.AgentService_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
	hs.SetServingStatus(pb.LogService_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
	s.updateServiceHealth()
	go s.pollHealth()
	return s, nil
}

// servedLeaf reads the certificate a TLS config currently serves, for a
// caller that did not say where to find it.
func servedLeaf(c *tls.Config) func() *x509.Certificate {
	return func() *x509.Certificate {
		if c.GetCertificate != nil {
			if cert, err := c.GetCertificate(&tls.ClientHelloInfo{}); err == nil && cert != nil {
				return cert.Leaf
			}
		}
		if len(c.Certificates) > 0 {
			return c.Certificates[0].Leaf
		}
		return nil
	}
}

// SetPolicy replaces the authorization policy (config reload): calls use
// it from now on, and open streams it no longer allows end with
// PERMISSION_DENIED. It returns how many streams it ended.
func (s *Server) SetPolicy(p *authz.Policy) int {
	if s.insecure {
		p = p.WithBinding(authz.Binding{CN: insecureIdentity.CommonName, Role: authz.RoleAdmin})
	}
	s.guard.policy.Store(p)
	return s.guard.live.recheck(p)
}

// updateServiceHealth reflects the service backend's availability in the
// per-service health status, so probes can tell "agent up, systemd down".
func (s *Server) updateServiceHealth() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st := healthpb.HealthCheckResponse_SERVING
	if !s.services.Status(ctx).Available {
		st = healthpb.HealthCheckResponse_NOT_SERVING
	}
	s.health.SetServingStatus(pb.ServiceManager_ServiceDesc.ServiceName, st)
}

func (s *Server) pollHealth() {
	t := time.NewTicker(healthPollInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.updateServiceHealth()
		}
	}
}

// Serve accepts connections on lis until Shutdown.
func (s *Server) Serve(lis net.Listener) error {
	if s.insecure && !isLoopback(lis.Addr()) {
		return fmt.Errorf("insecure (plaintext) mode only listens on loopback, not %s", lis.Addr())
	}
	return s.grpc.Serve(quietListener(lis))
}

// Shutdown stops accepting work, ends watch streams with UNAVAILABLE ("the
// agent is shutting down"), lets in-flight calls finish until ctx ends, then
// cuts the rest.
func (s *Server) Shutdown(ctx context.Context) {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	s.health.Shutdown() // probes see NOT_SERVING while draining
	httpDone := s.shutdownHTTP(ctx)
	defer func() { <-httpDone }()
	done := make(chan struct{})
	go func() { s.grpc.GracefulStop(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		s.log.Warn().Msg("drain deadline reached; closing remaining streams")
		s.grpc.Stop()
		<-done
	}
}

func isLoopback(a net.Addr) bool {
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// IsLoopbackAddress reports whether a listen address (HOST:PORT) names a
// loopback interface; "localhost" counts, an empty host (all interfaces) does not.
func IsLoopbackAddress(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
