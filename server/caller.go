package server

import (
	"context"

	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"

	"github.com/remotectl/remotectl/internal/pki"
)

// caller is an authenticated identity and its string form, the key of the
// per-identity limiters, the stream gate and the log records.
type caller struct {
	id  pki.Identity
	key string
}

func newCaller(id pki.Identity) *caller { return &caller{id: id, key: id.String()} }

// insecureCaller is every caller of an --insecure server.
var insecureCaller = newCaller(insecureIdentity)

// peerAuth is the AuthInfo of a connection auditedCreds accepted: the TLS
// state plus the caller parsed once, at the handshake, so no call on the
// connection parses the certificate again (it showed as ~5% of the CPU of a
// Heartbeat). The embedded TLSInfo keeps AuthType and the security level.
type peerAuth struct {
	credentials.TLSInfo
	who *caller // nil without a verified chain
}

// withCaller wraps the AuthInfo of a completed handshake.
func withCaller(ti credentials.TLSInfo) *peerAuth {
	a := &peerAuth{TLSInfo: ti}
	if len(ti.State.VerifiedChains) > 0 {
		a.who = newCaller(pki.PeerIdentity(ti.State))
	}
	return a
}

// peerCaller returns the verified caller of the connection in ctx: cached
// for gRPC connections, parsed for the rest (the HTTP gateway's requests).
func peerCaller(ctx context.Context) (*caller, bool) {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return nil, false
	}
	switch a := p.AuthInfo.(type) {
	case *peerAuth:
		return a.who, a.who != nil
	case credentials.TLSInfo:
		if len(a.State.VerifiedChains) == 0 {
			return nil, false
		}
		return newCaller(pki.PeerIdentity(a.State)), true
	}
	return nil, false
}

// callerFromContext returns the caller the auth interceptor attached.
func callerFromContext(ctx context.Context) (*caller, bool) {
	c, ok := ctx.Value(identityKey{}).(*caller)
	return c, ok
}
