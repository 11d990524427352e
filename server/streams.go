package server

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/tap"
)

// Streams are counted where the transport creates them (tap), before any
// request message arrives: a certificate holder opening HTTP/2 streams with
// HEADERS and never DATA never reaches an interceptor, yet each such stream
// holds a goroutine and buffers. The gate caps the open streams of each
// identity across its connections and ends a stream whose request does not
// arrive within RequestTimeout.

// errNoRequest ends a stream whose request message never came.
var errNoRequest = errors.New("no request message within the request timeout")

type streamGate struct {
	max     int
	timeout time.Duration
	log     zerolog.Logger

	mu   sync.Mutex
	open map[string]int
}

type gateEntry struct{ timer *time.Timer }

type gateKey struct{}

func newStreamGate(limit int, timeout time.Duration, log zerolog.Logger) *streamGate {
	return &streamGate{max: limit, timeout: timeout, log: log, open: map[string]int{}}
}

// tap admits or refuses a new stream of the connection in ctx.
func (g *streamGate) tap(ctx context.Context, info *tap.Info) (context.Context, error) {
	key := "unauthenticated"
	if c, ok := peerCaller(ctx); ok {
		key = c.key
	} else if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		key = p.Addr.String()
	}
	g.mu.Lock()
	if g.open[key] >= g.max {
		g.mu.Unlock()
		g.log.Warn().Str("peer.identity", key).Str("method", info.FullMethodName).Int("limit", g.max).
			Msg("refused a stream: too many open streams for this identity")
		return nil, status.Errorf(codes.ResourceExhausted, "too many open streams for %s: the limit is %d per identity across connections", key, g.max)
	}
	g.open[key]++
	g.mu.Unlock()
	ctx, cancel := context.WithCancelCause(ctx)
	e := &gateEntry{timer: time.AfterFunc(g.timeout, func() {
		g.log.Warn().Str("peer.identity", key).Str("method", info.FullMethodName).Dur("timeout", g.timeout).
			Msg("ended a stream that sent no request")
		cancel(errNoRequest)
	})}
	context.AfterFunc(ctx, func() {
		e.timer.Stop()
		g.mu.Lock()
		if g.open[key]--; g.open[key] <= 0 {
			delete(g.open, key)
		}
		g.mu.Unlock()
	})
	return context.WithValue(ctx, gateKey{}, e), nil
}

// requestArrived stops the request timer of the stream in ctx: called by
// the first interceptor, which runs once a unary request has been read (or
// a streaming call has started).
func requestArrived(ctx context.Context) {
	if e, ok := ctx.Value(gateKey{}).(*gateEntry); ok {
		e.timer.Stop()
	}
}
