// Package client is the Go client of the remotectl agent (ctld).
//
//	c, err := client.New("host:7443", client.WithTLSFiles("ca.crt", "client.crt", "client.key"))
//	procs, err := c.ListProcesses(ctx, &remotectlv1.ListProcessesRequest{Limit: 10, Sort: remotectlv1.ProcessSort_PROCESS_SORT_CPU})
//	_, err = c.StopService(ctx, "nginx", 0)
//	if errors.Is(err, client.ErrNotFound) { ... }
//
// Errors returned by the client match the sentinel errors below with
// errors.Is, and still carry the gRPC status (status.Code works).
package client

import (
	"context"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"

	"github.com/remotectl/remotectl/internal/errdefs"
	"github.com/remotectl/remotectl/internal/errdefs/errgrpc"
	"github.com/remotectl/remotectl/internal/version"
	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
)

// Sentinel errors; match with errors.Is.
var (
	ErrInvalidArgument    = errdefs.ErrInvalidArgument
	ErrNotFound           = errdefs.ErrNotFound
	ErrPermissionDenied   = errdefs.ErrPermissionDenied
	ErrUnauthenticated    = errdefs.ErrUnauthenticated
	ErrFailedPrecondition = errdefs.ErrFailedPrecondition
	ErrUnavailable        = errdefs.ErrUnavailable
	ErrNotSupported       = errdefs.ErrNotSupported
	ErrDeadlineExceeded   = errdefs.ErrDeadlineExceeded
	ErrResourceExhausted  = errdefs.ErrResourceExhausted
	ErrCanceled           = errdefs.ErrCanceled
	ErrInternal           = errdefs.ErrInternal
)

// Client talks to one agent. It is safe for concurrent use; the underlying
// connection reconnects by itself with exponential backoff.
type Client struct {
	conn     *grpc.ClientConn
	ownsConn bool
	opts     *options

	procs  pb.ProcessServiceClient
	svcs   pb.ServiceManagerClient
	agent  pb.AgentServiceClient
	health healthpb.HealthClient
}

// New creates a client for the agent at addr (HOST:PORT). It does not dial:
// the connection is made on first use and re-made after failures.
func New(addr string, opts ...Option) (*Client, error) {
	o := buildOptions(opts)
	var creds credentials.TransportCredentials
	if o.insecure {
		creds = insecure.NewCredentials()
	} else {
		tc, err := o.clientTLS()
		if err != nil {
			return nil, err
		}
		creds = credentials.NewTLS(tc)
	}
	ua := "remotectl-client/" + version.Version
	if o.userAgent != "" {
		ua = o.userAgent + " " + ua
	}
	dial := append([]grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithUserAgent(ua),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxRecvMsgSize)),
		// Ping idle connections, but never more often than the server's
		// enforcement minimum (15 s), which would earn a GOAWAY.
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: 30 * time.Second, Timeout: 10 * time.Second, PermitWithoutStream: true}),
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 250 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 15 * time.Second},
			MinConnectTimeout: o.connectTimeout,
		}),
	}, o.dialOpts...)
	conn, err := grpc.NewClient(addr, dial...)
	if err != nil {
		return nil, err
	}
	c := NewWithConn(conn, opts...)
	c.ownsConn = true
	return c, nil
}

// NewWithConn wraps an existing connection (tests use bufconn). Close does
// not close a connection it did not create.
func NewWithConn(conn *grpc.ClientConn, opts ...Option) *Client {
	return &Client{
		conn:   conn,
		opts:   buildOptions(opts),
		procs:  pb.NewProcessServiceClient(conn),
		svcs:   pb.NewServiceManagerClient(conn),
		agent:  pb.NewAgentServiceClient(conn),
		health: healthpb.NewHealthClient(conn),
	}
}

// Close releases the connection if the client created it.
func (c *Client) Close() error {
	if c.ownsConn {
		return c.conn.Close()
	}
	return nil
}

// Conn exposes the underlying connection (for generated clients of future APIs).
func (c *Client) Conn() *grpc.ClientConn { return c.conn }

// withTimeout applies the default call timeout, or at least min, when ctx has no deadline.
func (c *Client) withTimeout(ctx context.Context, atLeast time.Duration) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	d := c.opts.callTimeout
	if d <= 0 && atLeast <= 0 {
		return ctx, func() {}
	}
	if atLeast > d {
		d = atLeast
	}
	return context.WithTimeout(ctx, d)
}

// Heartbeat returns the agent's identity and host summary.
func (c *Client) Heartbeat(ctx context.Context) (*pb.HeartbeatResponse, error) {
	ctx, cancel := c.withTimeout(ctx, 0)
	defer cancel()
	resp, err := c.agent.Heartbeat(ctx, &pb.HeartbeatRequest{})
	return resp, errgrpc.FromGRPC(err)
}

// Health checks grpc.health.v1 for a service ("" = the agent as a whole).
func (c *Client) Health(ctx context.Context, service string) (healthpb.HealthCheckResponse_ServingStatus, error) {
	ctx, cancel := c.withTimeout(ctx, 0)
	defer cancel()
	resp, err := c.health.Check(ctx, &healthpb.HealthCheckRequest{Service: service})
	if err != nil {
		return healthpb.HealthCheckResponse_UNKNOWN, errgrpc.FromGRPC(err)
	}
	return resp.GetStatus(), nil
}
