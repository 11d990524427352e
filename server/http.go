package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"

	"github.com/remotectl/remotectl/server/audit"
	"github.com/remotectl/remotectl/server/httpapi"
)

// HTTP limits beside the gRPC ones, which apply unchanged (message sizes,
// streams per connection, per-identity rates and streams).
const (
	// HTTPMaxHeaderBytes bounds a request's headers.
	HTTPMaxHeaderBytes = 64 << 10
	// HTTPIdleTimeout closes keep-alive connections nobody uses.
	HTTPIdleTimeout = 2 * time.Minute
)

// httpFront holds the JSON-over-HTTPS servers, so Shutdown can stop them.
type httpFront struct {
	mu      sync.Mutex
	servers []*http.Server
	closed  bool
}

// ServeHTTPS serves the API as JSON over HTTPS on lis until Shutdown (plain
// HTTP on loopback in insecure mode). Requests are served by the gRPC
// server's own handler, so they pass the same interceptors with the
// caller's certificate; the TLS configuration is the gRPC one (mutual TLS
// 1.3, the same CA pool, CRL and reloads) with HTTP/1.1 allowed beside h2.
func (s *Server) ServeHTTPS(lis net.Listener) error {
	if s.insecure && !isLoopback(lis.Addr()) {
		return fmt.Errorf("insecure (plaintext) mode only listens on loopback, not %s", lis.Addr())
	}
	h, err := httpapi.NewHandler(httpapi.Config{GRPC: s.grpc, MaxRequestBytes: MaxRecvMsgSize, SchemaAccess: s.schemaAccess, Unary: s.invokeUnary})
	if err != nil {
		return err
	}
	hs := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: HandshakeTimeout, // also bounds the TLS handshake
		IdleTimeout:       HTTPIdleTimeout,
		MaxHeaderBytes:    HTTPMaxHeaderBytes,
		HTTP2:             &http.HTTP2Config{MaxConcurrentStreams: MaxConcurrentStreams},
		ErrorLog:          log.New(handshakeAuditor{g: s.guard, hs: s.hs}, "", 0),
		ConnContext:       httpConnContext,
	}
	s.http.mu.Lock()
	if s.http.closed {
		s.http.mu.Unlock()
		return net.ErrClosed
	}
	s.http.servers = append(s.http.servers, hs)
	s.http.mu.Unlock()
	if s.insecure {
		err = hs.Serve(lis)
	} else {
		hs.TLSConfig = httpsTLS(s.tls)
		hs.ConnState = s.conns.trackHTTPS // reloads re-verify these too
		err = hs.ServeTLS(lis, "", "")
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// schemaMethod is the gRPC method whose permission the OpenAPI document
// needs: it describes what reflection describes.
const schemaMethod = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"

// schemaAccess applies the authorization table to the OpenAPI document, as
// to reflection, with the same audit record on refusal.
func (s *Server) schemaAccess(r *http.Request) error {
	ctx := peer.NewContext(r.Context(), httpPeer(r))
	ctx, err := authenticate(ctx, s.insecure)
	if err != nil {
		return err
	}
	c := newCall(ctx, schemaMethod)
	if d := s.guard.policy.Load().Decide(c.id, c.method); !d.Allowed {
		return s.guard.deny(c, codes.PermissionDenied, d.Rule.Permission, d.Reason)
	}
	return nil
}

type strAddr string

func (a strAddr) Network() string { return "tcp" }
func (a strAddr) String() string  { return string(a) }

// shutdownHTTP stops accepting HTTP requests at once and returns a channel
// closed when the running ones ended (the gRPC drain ends their streams)
// or ctx expired (then they are cut).
func (s *Server) shutdownHTTP(ctx context.Context) <-chan struct{} {
	s.http.mu.Lock()
	s.http.closed = true
	servers := s.http.servers
	s.http.mu.Unlock()
	done := make(chan struct{})
	go func() {
		defer close(done)
		var wg sync.WaitGroup
		for _, hs := range servers {
			wg.Go(func() {
				if hs.Shutdown(ctx) != nil {
					_ = hs.Close()
				}
			})
		}
		wg.Wait()
	}()
	return done
}

// httpsTLS is the gRPC TLS configuration offering HTTP/1.1 besides h2 (curl
// and most HTTP libraries); everything else, per-handshake CA pool included,
// is unchanged.
func httpsTLS(base *tls.Config) *tls.Config {
	alpn := []string{"h2", "http/1.1"}
	c := base.Clone()
	c.NextProtos = alpn
	if get := base.GetConfigForClient; get != nil {
		c.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
			cc, err := get(hello)
			if cc != nil {
				cc = cc.Clone()
				cc.NextProtos = alpn
			}
			return cc, err
		}
	}
	return c
}

// handshakeAuditor receives net/http's error log. A refused TLS handshake
// (no certificate, unknown CA, revoked, ...) never reaches a handler, so it
// is audited here, as auditedCreds does for gRPC; other lines are logged.
// Refusals go through the same per-source sampler as gRPC's (finding 3 of
// issue 13: strangers must not fill the audit log over either port).
type handshakeAuditor struct {
	g  *guard
	hs *handshakes // nil in insecure mode
}

const httpHandshakeError = "http: TLS handshake error from "

func (a handshakeAuditor) Write(p []byte) (int, error) {
	line := strings.TrimSpace(string(p))
	rest, ok := strings.CutPrefix(line, httpHandshakeError)
	if !ok {
		a.g.log.Warn().Str("component", "https").Msg(line)
		return len(p), nil
	}
	peer, reason, _ := strings.Cut(rest, ": ")
	if a.hs != nil {
		a.hs.refuse(strAddr(peer), errors.New(reason), time.Now())
		return len(p), nil
	}
	r := call{method: HandshakeMethod, peer: peer}.record(audit.EventDenied, codes.Unauthenticated, reason)
	r.Duration = 0
	if err := a.g.audit.Write(r); err != nil {
		a.g.log.Error().Err(err).Msg("audit record of a refused HTTPS handshake could not be written")
	}
	return len(p), nil
}
