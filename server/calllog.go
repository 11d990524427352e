package server

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	"github.com/rs/zerolog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/remotectl/remotectl/server/authz"
)

// Per-call logging. go-grpc-middleware's logging interceptor logs every
// finished unary call at a level chosen by what the call does: a successful
// mutation (authz.Methods marks them) at info, a successful read at debug,
// a failure at the middleware's level for its code. Reads are most calls (a
// controller heartbeats fifty agents every few seconds), so when the level
// of a call's success record is off the middleware is skipped: it would
// build its fields for a record nobody writes (a quarter of a Heartbeat's
// CPU in a profile). Only a failure is then logged, by logFailure, with the
// middleware's keys. Streams are few and long: they always go through it.

// readLevels is the middleware's code-to-level table with successful reads
// moved down to debug.
func readLevels(c codes.Code) logging.Level {
	if c == codes.OK {
		return logging.LevelDebug
	}
	return logging.DefaultServerCodeToLevel(c)
}

func logUnary(l zerolog.Logger, lg logging.Logger, opts []logging.Option, insecure bool) grpc.UnaryServerInterceptor {
	mutations := logging.UnaryServerInterceptor(lg, opts...)
	reads := logging.UnaryServerInterceptor(lg, append(opts[:len(opts):len(opts)], logging.WithLevels(readLevels))...)
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		inner, okLevel := reads, zerolog.DebugLevel
		if authz.Methods[info.FullMethod].Mutates {
			inner, okLevel = mutations, zerolog.InfoLevel
		}
		if enabled(l, okLevel) {
			return inner(ctx, req, info, h)
		}
		start := time.Now()
		resp, err := h(ctx, req)
		if err != nil {
			logFailure(ctx, l, info.FullMethod, start, err, insecure)
		}
		return resp, err
	}
}

// enabled reports whether l writes records at lvl.
func enabled(l zerolog.Logger, lvl zerolog.Level) bool {
	return l.GetLevel() != zerolog.Disabled && lvl >= l.GetLevel() && lvl >= zerolog.GlobalLevel()
}

// zerologLevel maps the middleware's levels onto zerolog's.
func zerologLevel(lvl logging.Level) zerolog.Level {
	switch lvl {
	case logging.LevelDebug:
		return zerolog.DebugLevel
	case logging.LevelInfo:
		return zerolog.InfoLevel
	case logging.LevelWarn:
		return zerolog.WarnLevel
	default:
		return zerolog.ErrorLevel
	}
}

// logFailure writes the middleware's "finished call" record of a failed
// unary call whose success record would not have been written.
func logFailure(ctx context.Context, l zerolog.Logger, fullMethod string, start time.Time, err error, insecure bool) {
	code := status.Code(err)
	lvl := zerologLevel(logging.DefaultServerCodeToLevel(code))
	if !enabled(l, lvl) {
		return
	}
	svc, method, _ := strings.Cut(strings.TrimPrefix(fullMethod, "/"), "/")
	ev := l.WithLevel(lvl).
		Str(logging.SystemTag[0], logging.SystemTag[1]).
		Str(logging.ComponentFieldKey, logging.KindServerFieldValue).
		Str(logging.ServiceFieldKey, svc).
		Str(logging.MethodFieldKey, method).
		Str(logging.MethodTypeFieldKey, "unary")
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		ev = ev.Str("peer.address", p.Addr.String())
	}
	if k := callerKey(ctx, insecure); k != "" {
		ev = ev.Str("peer.identity", k)
	}
	ev.Str("grpc.start_time", start.Format(time.RFC3339)).
		Str("grpc.code", code.String()).
		Str("grpc.error", err.Error()).
		Str("grpc.time_ms", strconv.FormatFloat(float64(time.Since(start).Microseconds())/1000, 'f', -1, 64)).
		Msg("finished call")
}

// callerKey is the identity the log records name: the connection's cached
// caller, or the insecure mode's fixed one.
func callerKey(ctx context.Context, insecure bool) string {
	if c, ok := peerCaller(ctx); ok {
		return c.key
	}
	if insecure {
		return insecureCaller.key
	}
	return ""
}
