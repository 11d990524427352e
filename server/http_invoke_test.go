package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/peer"
)

// TestHTTPPeerParsedOncePerConnection: requests on one HTTPS connection
// share the caller parsed from its certificate; another connection parses
// its own; a request without the connection cache still gets a caller.
func TestHTTPPeerParsedOncePerConnection(t *testing.T) {
	tlsOf := func(cn string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/v1/heartbeat", nil)
		st := verifiedTLS(cn).State
		r.TLS = &st
		return r
	}
	conn1 := httpConnContext(context.Background(), nil)
	r1 := tlsOf("bob").WithContext(conn1)
	r2 := tlsOf("bob").WithContext(conn1)
	first, ok := peerCaller(contextWithPeer(r1))
	if !ok || first.key != "CN=bob" {
		t.Fatalf("caller = %+v, %v", first, ok)
	}
	if again, _ := peerCaller(contextWithPeer(r2)); again != first {
		t.Fatal("a second request on the connection parsed the certificate again")
	}
	other, _ := peerCaller(contextWithPeer(tlsOf("bob").WithContext(httpConnContext(context.Background(), nil))))
	if other == first {
		t.Fatal("another connection reused the first connection's caller")
	}
	if c, ok := peerCaller(contextWithPeer(tlsOf("carol"))); !ok || c.key != "CN=carol" {
		t.Fatalf("request without a connection cache: caller %+v, %v", c, ok)
	}
	if _, ok := peerCaller(contextWithPeer(httptest.NewRequest(http.MethodGet, "/", nil))); ok {
		t.Fatal("a request without TLS has a caller")
	}
}

func contextWithPeer(r *http.Request) context.Context {
	return peer.NewContext(r.Context(), httpPeer(r))
}

// TestChainUnaryOrder: the HTTP path runs the interceptors in the order
// grpc.ChainUnaryInterceptor does, each seeing what the previous passed on.
func TestChainUnaryOrder(t *testing.T) {
	type key struct{}
	var seen []string
	mk := func(name string) grpc.UnaryServerInterceptor {
		return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			seen = append(seen, name+":"+info.FullMethod)
			prev, _ := ctx.Value(key{}).(string)
			return h(context.WithValue(ctx, key{}, prev+name), req)
		}
	}
	chain := chainUnary([]grpc.UnaryServerInterceptor{mk("a"), mk("b"), mk("c")})
	resp, err := chain(context.Background(), "req", &grpc.UnaryServerInfo{FullMethod: "/m"}, func(ctx context.Context, req any) (any, error) {
		return ctx.Value(key{}).(string) + ">" + req.(string), nil
	})
	if err != nil || resp != "abc>req" {
		t.Fatalf("chain = %v, %v; want abc>req", resp, err)
	}
	if want := []string{"a:/m", "b:/m", "c:/m"}; !reflect.DeepEqual(seen, want) {
		t.Fatalf("order %v, want %v", seen, want)
	}
	// No interceptors: the handler alone.
	resp, _ = chainUnary(nil)(context.Background(), "x", &grpc.UnaryServerInfo{}, func(_ context.Context, req any) (any, error) { return req, nil })
	if resp != "x" {
		t.Fatalf("empty chain = %v", resp)
	}
}
