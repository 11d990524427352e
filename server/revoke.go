package server

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"sync"

	"github.com/remotectl/remotectl/internal/pki"
	"github.com/remotectl/remotectl/server/authz"
)

// Revocation and policy changes must reach what is already open: a
// revoked client keeps its TCP connection, and a stream admitted under the
// old policy would otherwise run on forever.

// errPolicyChanged ends a stream whose caller lost the permission.
var errPolicyChanged = errors.New("the agent's authorization policy changed and no longer allows this stream")

// liveStreams are the admitted streams, re-decided when the policy changes.
type liveStreams struct {
	mu   sync.Mutex
	next uint64
	m    map[uint64]liveStream
}

type liveStream struct {
	id     pki.Identity
	method string
	cancel context.CancelCauseFunc
}

func (l *liveStreams) add(s liveStream) (remove func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[uint64]liveStream{}
	}
	k := l.next
	l.next++
	l.m[k] = s
	return func() {
		l.mu.Lock()
		delete(l.m, k)
		l.mu.Unlock()
	}
}

// recheck ends the streams p denies and returns how many.
func (l *liveStreams) recheck(p *authz.Policy) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for k, s := range l.m {
		if !p.Decide(s.id, s.method).Allowed {
			s.cancel(errPolicyChanged)
			delete(l.m, k)
			n++
		}
	}
	return n
}

// liveConns are the mutual-TLS connections whose handshake succeeded,
// with what their peer presented, so a reload can verify them again.
type liveConns struct {
	mu sync.Mutex
	m  map[net.Conn]tls.ConnectionState
}

type trackedConn struct {
	net.Conn
	owner *liveConns
	once  sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() { c.owner.forget(c) })
	return c.Conn.Close()
}

// track registers a gRPC connection; closing the returned conn forgets it.
func (l *liveConns) track(conn net.Conn, st tls.ConnectionState) net.Conn {
	t := &trackedConn{Conn: conn, owner: l}
	l.add(t, st)
	return t
}

func (l *liveConns) add(c net.Conn, st tls.ConnectionState) {
	l.mu.Lock()
	if l.m == nil {
		l.m = map[net.Conn]tls.ConnectionState{}
	}
	l.m[c] = st
	l.mu.Unlock()
}

func (l *liveConns) forget(c net.Conn) {
	l.mu.Lock()
	delete(l.m, c)
	l.mu.Unlock()
}

// trackHTTPS is the HTTPS server's ConnState hook: a connection is
// registered once its handshake is done (its first request) and forgotten
// when it closes, so Revalidate reaches HTTPS keep-alive connections too.
func (l *liveConns) trackHTTPS(c net.Conn, st http.ConnState) {
	tc, ok := c.(*tls.Conn)
	if !ok {
		return
	}
	switch st {
	case http.StateActive:
		l.add(c, tc.ConnectionState())
	case http.StateClosed, http.StateHijacked:
		l.forget(c)
	}
}

// closeFailing closes every connection whose peer verify refuses now and
// returns the identities it cut.
func (l *liveConns) closeFailing(verify func(tls.ConnectionState) error) []string {
	l.mu.Lock()
	var bad []net.Conn
	var who []string
	for c, st := range l.m {
		if verify(st) != nil {
			bad = append(bad, c)
			who = append(who, pki.PeerIdentity(st).String())
		}
	}
	l.mu.Unlock()
	for _, c := range bad {
		_ = c.Close()
		l.forget(c)
	}
	return who
}

// Revalidate verifies every open connection's client certificate again
// with verify (pki.ServerTLS.VerifyPeer after a reload: the current CA
// bundle, CRL and revoked serials) and closes those that fail. It returns
// the identities of the closed connections.
func (s *Server) Revalidate(verify func(tls.ConnectionState) error) []string {
	return s.conns.closeFailing(verify)
}
