package server

import (
	"net"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"

	"github.com/remotectl/remotectl/server/audit"
)

// HandshakeMethod is the audit "method" of a refused TLS handshake.
const HandshakeMethod = "tls-handshake"

// auditedCreds audits every refused TLS handshake (no certificate, unknown
// CA, expired, revoked, wrong key usage): those callers never reach an
// RPC, so the interceptor cannot see them.
type auditedCreds struct {
	credentials.TransportCredentials
	g *guard
}

func (c auditedCreds) ServerHandshake(raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	conn, info, err := c.TransportCredentials.ServerHandshake(raw)
	if err != nil {
		r := call{method: HandshakeMethod, peer: raw.RemoteAddr().String()}.record(audit.EventDenied, codes.Unauthenticated, err.Error())
		r.Duration = 0
		if werr := c.g.audit.Write(r); werr != nil {
			c.g.log.Error().Err(werr).Msg("audit record of a refused handshake could not be written")
		}
	}
	return conn, info, err
}

func (c auditedCreds) Clone() credentials.TransportCredentials {
	return auditedCreds{TransportCredentials: c.TransportCredentials.Clone(), g: c.g}
}
