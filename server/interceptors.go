package server

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/auth"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"github.com/rs/zerolog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/remotectl/remotectl/internal/pki"
)

type identityKey struct{}

// IdentityFromContext returns the caller identity established by the auth
// interceptor (the verified client certificate's subject).
func IdentityFromContext(ctx context.Context) (pki.Identity, bool) {
	if c, ok := callerFromContext(ctx); ok {
		return c.id, true
	}
	return pki.Identity{}, false
}

// insecureIdentity is the identity of every caller of an --insecure server.
var insecureIdentity = pki.Identity{CommonName: "insecure-loopback"}

// authenticate attaches the caller's identity. The TLS handshake has already
// verified the certificate; this refuses anything that reached the handler
// without one (defence in depth if the TLS config is ever loosened).
func authenticate(ctx context.Context, insecure bool) (context.Context, error) {
	if c, ok := peerCaller(ctx); ok {
		return context.WithValue(ctx, identityKey{}, c), nil
	}
	if insecure {
		return context.WithValue(ctx, identityKey{}, insecureCaller), nil
	}
	return nil, status.Error(codes.Unauthenticated, "a client certificate verified against the agent's CA is required")
}

// authFunc is the go-grpc-middleware auth function: it stops the stream
// gate's request timer (the first interceptor after recovery runs once the
// request has arrived) and attaches the caller. The library's
// interceptors wrap streams so handlers see the new context.
func authFunc(insecure bool) auth.AuthFunc {
	return func(ctx context.Context) (context.Context, error) {
		requestArrived(ctx)
		return authenticate(ctx, insecure)
	}
}

// zerologAdapter lets go-grpc-middleware log through zerolog.
func zerologAdapter(l zerolog.Logger) logging.Logger {
	return logging.LoggerFunc(func(_ context.Context, lvl logging.Level, msg string, fields ...any) {
		var ev *zerolog.Event // nil when the level is off: nothing is built
		switch lvl {
		case logging.LevelDebug:
			ev = l.Debug()
		case logging.LevelInfo:
			ev = l.Info()
		case logging.LevelWarn:
			ev = l.Warn()
		default:
			ev = l.Error()
		}
		if ev != nil {
			ev.Fields(fields).Msg(msg)
		}
	})
}

func loggingOptions(insecure bool) []logging.Option {
	return []logging.Option{
		logging.WithLogOnEvents(logging.FinishCall),
		logging.WithFieldsFromContext(func(ctx context.Context) logging.Fields {
			if k := callerKey(ctx, insecure); k != "" {
				return logging.Fields{"peer.identity", k}
			}
			return nil
		}),
	}
}

// recoveryOption turns a handler panic into INTERNAL and logs the stack, so
// one bad request never takes the daemon down.
func recoveryOption(l zerolog.Logger) recovery.Option {
	return recovery.WithRecoveryHandlerContext(func(ctx context.Context, p any) error {
		l.Error().Str("panic", fmt.Sprint(p)).Bytes("stack", debug.Stack()).Msg("recovered from handler panic")
		return status.Error(codes.Internal, "internal error (the agent logged the details)")
	})
}

func interceptors(l zerolog.Logger, insecure bool, g *guard) ([]grpc.UnaryServerInterceptor, []grpc.StreamServerInterceptor) {
	lg := zerologAdapter(l)
	lopts := loggingOptions(insecure)
	rec := recoveryOption(l)
	authn := authFunc(insecure)
	// Order: logging sees the final code (including recovered panics);
	// recovery wraps everything after it; auth establishes the identity,
	// then the guard (the one authorization point) decides, audits and
	// rate-limits before any handler runs.
	return []grpc.UnaryServerInterceptor{
			logUnary(l, lg, lopts, insecure),
			recovery.UnaryServerInterceptor(rec),
			auth.UnaryServerInterceptor(authn),
			g.unary(),
		}, []grpc.StreamServerInterceptor{
			logging.StreamServerInterceptor(lg, lopts...),
			recovery.StreamServerInterceptor(rec),
			auth.StreamServerInterceptor(authn),
			g.stream(),
		}
}
