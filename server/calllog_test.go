package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"net"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

const (
	readMethod     = "/remotectl.v1.AgentService/Heartbeat"
	mutationMethod = "/remotectl.v1.ServiceManager/StopService"
)

// TestCallLogLevels: reads succeed at debug, mutations at info, failures at
// the middleware's level for their code, whether or not the middleware ran.
func TestCallLogLevels(t *testing.T) {
	tests := []struct {
		name   string
		level  zerolog.Level
		method string
		err    error
		want   string // the record's level, "" for none
	}{
		{"read ok at info: nothing", zerolog.InfoLevel, readMethod, nil, ""},
		{"read ok at debug", zerolog.DebugLevel, readMethod, nil, "debug"},
		{"read refused at info", zerolog.InfoLevel, readMethod, status.Error(codes.PermissionDenied, "no"), "warn"},
		{"read broken at warn", zerolog.WarnLevel, readMethod, status.Error(codes.Internal, "boom"), "error"},
		{"read not found at warn: nothing", zerolog.WarnLevel, readMethod, status.Error(codes.NotFound, "x"), ""},
		{"mutation ok at info", zerolog.InfoLevel, mutationMethod, nil, "info"},
		{"mutation ok at warn: nothing", zerolog.WarnLevel, mutationMethod, nil, ""},
		{"mutation refused at warn", zerolog.WarnLevel, mutationMethod, status.Error(codes.ResourceExhausted, "slow"), "warn"},
		{"unknown method ok at info: nothing", zerolog.InfoLevel, "/x.Y/Z", nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			l := zerolog.New(&buf).Level(tc.level)
			ic := logUnary(l, zerologAdapter(l), loggingOptions(false), false)
			ctx := peer.NewContext(context.Background(), &peer.Peer{Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4242},
				AuthInfo: withCaller(verifiedTLS("alice"))})
			_, err := ic(ctx, nil, &grpc.UnaryServerInfo{FullMethod: tc.method}, func(context.Context, any) (any, error) {
				return nil, tc.err
			})
			if err != tc.err { //nolint:errorlint // the interceptor must return the handler's error itself
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			out := strings.TrimSpace(buf.String())
			if tc.want == "" {
				if out != "" {
					t.Fatalf("logged %s, want nothing", out)
				}
				return
			}
			var rec map[string]any
			if err := json.Unmarshal([]byte(out), &rec); err != nil {
				t.Fatalf("one JSON record wanted, got %q: %v", out, err)
			}
			svc, method, _ := strings.Cut(strings.TrimPrefix(tc.method, "/"), "/")
			want := map[string]any{"level": tc.want, "message": "finished call", "grpc.service": svc, "grpc.method": method,
				"grpc.code": status.Code(tc.err).String(), "peer.identity": "CN=alice", "peer.address": "127.0.0.1:4242",
				"grpc.component": "server", "grpc.method_type": "unary", "protocol": "grpc"}
			for k, v := range want {
				if rec[k] != v {
					t.Errorf("%s = %v, want %v (record %s)", k, rec[k], v, out)
				}
			}
			for _, k := range []string{"grpc.time_ms", "grpc.start_time"} {
				if _, ok := rec[k]; !ok {
					t.Errorf("record lacks %s: %s", k, out)
				}
			}
			if tc.err != nil && rec["grpc.error"] == nil {
				t.Errorf("failure record lacks grpc.error: %s", out)
			}
		})
	}
}

// TestPeerIdentityParsedOncePerConnection: every call on a connection gets
// the caller parsed at the handshake, not a fresh parse.
func TestPeerIdentityParsedOncePerConnection(t *testing.T) {
	auth := withCaller(verifiedTLS("bob"))
	ctx := peer.NewContext(context.Background(), &peer.Peer{AuthInfo: auth})
	first, ok := peerCaller(ctx)
	if !ok || first.id.CommonName != "bob" || first.key != "CN=bob" {
		t.Fatalf("peerCaller = %+v, %v", first, ok)
	}
	again, _ := peerCaller(ctx)
	if again != first {
		t.Fatal("the second call parsed the certificate again instead of using the connection's caller")
	}
	if auth.AuthType() != "tls" {
		t.Fatalf("AuthType = %q: the wrapper must keep the TLS AuthInfo's behaviour", auth.AuthType())
	}
	// Without a verified chain there is no caller, cached or not.
	bare := peer.NewContext(context.Background(), &peer.Peer{AuthInfo: withCaller(credentials.TLSInfo{})})
	if c, ok := peerCaller(bare); ok {
		t.Fatalf("unverified connection has caller %+v", c)
	}
	// The HTTP gateway's plain TLSInfo is still parsed.
	plain := peer.NewContext(context.Background(), &peer.Peer{AuthInfo: verifiedTLS("carol")})
	if c, ok := peerCaller(plain); !ok || c.key != "CN=carol" {
		t.Fatalf("plain TLSInfo caller = %+v, %v", c, ok)
	}
}

// verifiedTLS is the AuthInfo of a handshake that verified a leaf for cn.
func verifiedTLS(cn string) credentials.TLSInfo {
	leaf := &x509.Certificate{Subject: pkix.Name{CommonName: cn}, Issuer: pkix.Name{CommonName: "ca"}}
	return credentials.TLSInfo{State: tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{leaf}}}}
}
