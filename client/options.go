package client

import (
	"crypto/tls"
	"errors"
	"time"

	"google.golang.org/grpc"

	"github.com/remotectl/remotectl/internal/pki"
	"github.com/remotectl/remotectl/internal/waits"
)

// Defaults.
const (
	// DefaultCallTimeout bounds unary calls whose context has no deadline.
	DefaultCallTimeout = 30 * time.Second
	// DefaultConnectTimeout bounds one connection attempt (WithConnectTimeout).
	DefaultConnectTimeout = 5 * time.Second
	// DefaultControlWait is how long a start/stop/restart waits for its
	// target state when the caller gives no wait (internal/waits, the agent's own definition).
	DefaultControlWait = waits.ServiceDefault
	// MaxControlWait is the longest wait a start/stop/restart may ask for;
	// the agent refuses a longer one with INVALID_ARGUMENT (internal/waits).
	MaxControlWait = waits.ServiceMax
	// MaxSignalWait is the longest SignalOptions.Wait the agent accepts
	// (internal/waits).
	MaxSignalWait = waits.SignalMax
	// MaxRecvMsgSize matches the server's send limit: a listing of many
	// thousand processes with full argv fits.
	MaxRecvMsgSize = 64 << 20
)

type options struct {
	tlsConfig      *tls.Config
	tlsFiles       *tlsFiles
	serverName     string
	insecure       bool
	callTimeout    time.Duration
	connectTimeout time.Duration
	dialOpts       []grpc.DialOption
	userAgent      string
}

type tlsFiles struct{ ca, cert, key string }

// Option configures a Client.
type Option func(*options)

// WithTLSFiles configures mutual TLS from PEM files: the CA bundle that signed
// the agent's certificate, and the client certificate and key.
func WithTLSFiles(caFile, certFile, keyFile string) Option {
	return func(o *options) { o.tlsFiles = &tlsFiles{ca: caFile, cert: certFile, key: keyFile} }
}

// WithTLSConfig configures TLS from a ready tls.Config (it must carry a
// client certificate: the agent requires one).
func WithTLSConfig(c *tls.Config) Option { return func(o *options) { o.tlsConfig = c } }

// WithServerName overrides the name checked against the agent's certificate
// (default: the host part of the address).
func WithServerName(name string) Option { return func(o *options) { o.serverName = name } }

// WithInsecure talks plaintext, for an agent started with --insecure on
// loopback. Never use it across a network.
func WithInsecure() Option { return func(o *options) { o.insecure = true } }

// WithCallTimeout sets the deadline for unary calls whose context has none.
// Zero disables it.
func WithCallTimeout(d time.Duration) Option { return func(o *options) { o.callTimeout = d } }

// WithConnectTimeout bounds one connection attempt (TCP and TLS handshake;
// default DefaultConnectTimeout). A long-lived client keeps it short so a
// hung agent is retried; a one-shot caller such as ctl raises it to its
// call's deadline, so a slow handshake fails as that call's timeout rather
// than earlier with the transport's own deadline.
func WithConnectTimeout(d time.Duration) Option { return func(o *options) { o.connectTimeout = d } }

// WithDialOptions appends raw gRPC dial options (interceptors, stats handlers).
func WithDialOptions(opts ...grpc.DialOption) Option {
	return func(o *options) { o.dialOpts = append(o.dialOpts, opts...) }
}

// WithUserAgent prefixes the gRPC user agent, so the agent's logs show the caller.
func WithUserAgent(ua string) Option { return func(o *options) { o.userAgent = ua } }

func buildOptions(opts []Option) *options {
	o := &options{callTimeout: DefaultCallTimeout, connectTimeout: DefaultConnectTimeout}
	for _, opt := range opts {
		opt(o)
	}
	return o
}

func (o *options) clientTLS() (*tls.Config, error) {
	switch {
	case o.tlsConfig != nil && o.tlsFiles != nil:
		return nil, errors.New("client: WithTLSConfig and WithTLSFiles are mutually exclusive")
	case o.tlsConfig != nil:
		c := o.tlsConfig.Clone()
		if o.serverName != "" {
			c.ServerName = o.serverName
		}
		return c, nil
	case o.tlsFiles != nil:
		return pki.ClientTLSConfig(o.tlsFiles.ca, o.tlsFiles.cert, o.tlsFiles.key, o.serverName)
	}
	return nil, errors.New("client: no TLS configuration: use WithTLSFiles or WithTLSConfig (or WithInsecure for a loopback --insecure agent)")
}
