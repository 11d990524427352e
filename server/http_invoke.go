package server

import (
	"context"
	"net"
	"net/http"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// An HTTP unary call is served by calling the registered method handler in
// process with the server's own unary interceptor chain (metrics, logging,
// recovery, authentication, the guard): exactly what grpc.Server runs for
// a gRPC call once the request message is read. Relaying it through
// grpc.Server.ServeHTTP instead (as server streams still are) encodes and
// decodes the request and the response once more and hands every write
// between two goroutines: it cost more than the call itself
// (`make bench-http`, issue 16).

// unaryMethod is one registered unary RPC.
type unaryMethod struct {
	impl    any
	handler grpc.MethodHandler
}

// methodRecorder registers services with the gRPC server and remembers
// their unary handlers for invokeUnary.
type methodRecorder struct {
	*grpc.Server
	unary map[string]unaryMethod // full method name -> handler
}

func (m *methodRecorder) RegisterService(sd *grpc.ServiceDesc, impl any) {
	m.Server.RegisterService(sd, impl)
	for _, md := range sd.Methods {
		m.unary["/"+sd.ServiceName+"/"+md.MethodName] = unaryMethod{impl: impl, handler: md.Handler}
	}
}

// chainUnary runs ics in order around the handler, as
// grpc.ChainUnaryInterceptor does.
func chainUnary(ics []grpc.UnaryServerInterceptor) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		var next func(i int) grpc.UnaryHandler
		next = func(i int) grpc.UnaryHandler {
			if i == len(ics) {
				return h
			}
			return func(ctx context.Context, req any) (any, error) { return ics[i](ctx, req, info, next(i+1)) }
		}
		return next(0)(ctx, req)
	}
}

// invokeUnary calls method for the HTTP request r. decode fills the request
// message; its error is returned as is (the caller makes it a 400).
func (s *Server) invokeUnary(r *http.Request, method string, decode func(proto.Message) error) (proto.Message, error) {
	m, ok := s.unary[method]
	if !ok {
		return nil, status.Errorf(codes.Unimplemented, "unknown method %s", method)
	}
	ctx := peer.NewContext(r.Context(), httpPeer(r))
	ctx = grpc.NewContextWithServerTransportStream(ctx, unaryStream(method))
	if ua := r.Header.Values("User-Agent"); len(ua) > 0 {
		ctx = metadata.NewIncomingContext(ctx, metadata.MD{"user-agent": ua})
	}
	dec := func(in any) error { return decode(in.(proto.Message)) }
	resp, err := m.handler(m.impl, ctx, dec, s.unaryChain)
	if err != nil {
		return nil, err
	}
	return resp.(proto.Message), nil
}

// unaryStream lets handlers call grpc.Method and grpc.SetHeader/SetTrailer
// (their metadata has no HTTP form and is dropped, as the relay drops it).
type unaryStream string

func (s unaryStream) Method() string             { return string(s) }
func (unaryStream) SetHeader(metadata.MD) error  { return nil }
func (unaryStream) SendHeader(metadata.MD) error { return nil }
func (unaryStream) SetTrailer(metadata.MD) error { return nil }

// connPeer caches an HTTPS connection's peer, so the client certificate is
// parsed into an identity once per connection, as for gRPC (peerAuth).
type connPeer struct {
	once sync.Once
	p    *peer.Peer
}

type connPeerKey struct{}

// httpConnContext gives every accepted HTTPS connection its peer cache.
func httpConnContext(ctx context.Context, _ net.Conn) context.Context {
	return context.WithValue(ctx, connPeerKey{}, &connPeer{})
}

// httpPeer is the peer of an HTTP request as gRPC would see it.
func httpPeer(r *http.Request) *peer.Peer {
	build := func() *peer.Peer {
		p := &peer.Peer{Addr: strAddr(r.RemoteAddr)}
		if r.TLS != nil {
			p.AuthInfo = withCaller(credentials.TLSInfo{State: *r.TLS})
		}
		return p
	}
	cp, ok := r.Context().Value(connPeerKey{}).(*connPeer)
	if !ok {
		return build()
	}
	cp.once.Do(func() { cp.p = build() })
	return cp.p
}
