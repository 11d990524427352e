package server

import (
	"context"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"

	"github.com/remotectl/remotectl/server/audit"
)

// HandshakeMethod is the audit "method" of a refused TLS handshake.
const HandshakeMethod = "tls-handshake"

// Refused handshakes come from strangers, who must not be able to fill the
// audit log or bury real changes: per HandshakeAuditInterval each source
// address gets one record and at most HandshakeAuditSources addresses get
// any; everything else is counted and summed up in one "suppressed" record
// per source (and one for the sources beyond the cap) when the interval ends.
const (
	HandshakeAuditInterval = time.Minute
	HandshakeAuditSources  = 32 // address and kind pairs
)

// auditedCreds audits refused TLS handshakes (no certificate, unknown CA,
// expired, revoked, wrong key usage), sampled per source, and tracks the
// accepted connections so a reload can verify them again.
type auditedCreds struct {
	credentials.TransportCredentials
	*handshakes
}

// MaxPendingHandshakes caps the connections waiting for their TLS
// handshake: silent connections would otherwise hold a file descriptor each
// for the whole HandshakeTimeout and starve real clients. Past the cap the
// oldest waiting connection is closed, so a new (real) client always gets
// its turn.
const MaxPendingHandshakes = 128

// handshakes is the state auditedCreds and its clones share.
type handshakes struct {
	g       *guard
	conns   *liveConns
	sampler *audit.Sampler
	refused atomic.Int64 // every refusal, recorded or not
	evicted atomic.Int64 // waiting connections closed to make room

	mu      sync.Mutex
	pending []net.Conn // oldest first
}

// wait registers raw as waiting for its handshake, closing the oldest
// waiting connection when the cap is reached; done unregisters it.
func (c *handshakes) wait(raw net.Conn) (done func()) {
	c.mu.Lock()
	if len(c.pending) >= MaxPendingHandshakes {
		_ = c.pending[0].Close()
		c.pending = c.pending[1:]
		c.evicted.Add(1)
	}
	c.pending = append(c.pending, raw)
	c.mu.Unlock()
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		for i, p := range c.pending {
			if p == raw {
				c.pending = append(c.pending[:i], c.pending[i+1:]...)
				return
			}
		}
	}
}

func newAuditedCreds(tc credentials.TransportCredentials, g *guard, conns *liveConns) auditedCreds {
	return auditedCreds{TransportCredentials: tc, handshakes: &handshakes{g: g, conns: conns,
		sampler: audit.NewSampler(HandshakeAuditInterval, 1, HandshakeAuditSources)}}
}

func (c auditedCreds) ServerHandshake(raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	done := c.wait(raw)
	conn, info, err := c.TransportCredentials.ServerHandshake(raw)
	done()
	if err != nil {
		c.refuse(raw.RemoteAddr(), err, time.Now())
		return conn, info, err
	}
	if ti, ok := info.(credentials.TLSInfo); ok {
		conn = c.conns.track(conn, ti.State)
		info = withCaller(ti)
	}
	return conn, info, err
}

// refused writes the record of a refused handshake when the sampler admits it.
func (c *handshakes) refuse(addr net.Addr, err error, now time.Time) {
	c.refused.Add(1)
	src := addr.String()
	if host, _, herr := net.SplitHostPort(src); herr == nil {
		src = host // one budget per address, whatever the port
	}
	// One budget per address and kind of failure, so a stranger's noise
	// cannot hide a real client's different refusal from the same host.
	ok, flushed := c.sampler.Admit(src+" "+refusalKind(err), now)
	c.writeTallies(flushed)
	if !ok {
		return
	}
	r := call{method: HandshakeMethod, peer: addr.String()}.record(audit.EventDenied, codes.Unauthenticated, err.Error())
	r.Duration = 0
	if werr := c.g.audit.Write(r); werr != nil {
		c.g.log.Error().Err(werr).Msg("audit record of a refused handshake could not be written")
	}
}

func (c *handshakes) writeTallies(t []audit.Tally) {
	if werr := c.g.audit.WriteTallies(HandshakeMethod, "peer", t); werr != nil {
		c.g.log.Error().Err(werr).Msg("audit summary of refused handshakes could not be written")
	}
}

// flushEvery writes the tallies of ended intervals until ctx ends, so a
// burst that stops is still summed up.
func (c *handshakes) flushEvery(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			c.writeTallies(c.sampler.Flush(time.Now().Add(HandshakeAuditInterval)))
			return
		case now := <-t.C:
			c.writeTallies(c.sampler.Flush(now))
		}
	}
}

func (c auditedCreds) Clone() credentials.TransportCredentials {
	return auditedCreds{TransportCredentials: c.TransportCredentials.Clone(), handshakes: c.handshakes}
}

// refusalKind sorts handshake errors into a few classes (bounded, unlike
// the messages, which quote certificate fields a stranger chooses).
func refusalKind(err error) string {
	msg := err.Error()
	for _, k := range []struct{ kind, substr string }{
		{"revoked", "revoked"},
		{"expired", "expired"},
		{"unknown-authority", "unknown authority"},
		{"key-usage", "key usage"},
		{"no-certificate", "certificate required"},
		{"no-certificate", "didn't provide a certificate"},
		{"not-tls", "does not look like a TLS"},
		{"closed", "EOF"},
		{"closed", "reset by peer"},
		{"timeout", "timeout"},
		{"timeout", "deadline"},
	} {
		if strings.Contains(msg, k.substr) {
			return k.kind
		}
	}
	return "other"
}
