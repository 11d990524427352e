package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/remotectl/remotectl/internal/errdefs/errgrpc"
)

// grpcErr is what the client returns: a status error mapped to a sentinel.
func grpcErr(c codes.Code, msg string) error { return errgrpc.FromGRPC(status.Error(c, msg)) }

func TestClassify(t *testing.T) {
	tg := target{host: "agent1:7443", cacert: "/pki/ca.crt", cert: "/pki/client.crt"}
	tests := []struct {
		name string
		err  error
		code int
		hint string // substring; "" means no hint
	}{
		{"not found", grpcErr(codes.NotFound, "not found: unit x.service"), exitNotFound, ""},
		{"permission denied", grpcErr(codes.PermissionDenied, "access denied"), exitAuth, "your identity lacks permission"},
		{"protected target", grpcErr(codes.PermissionDenied, "process 1 (systemd) is protected: pid 1 (init) is protected"), exitAuth, "for every identity (protected target)"},
		{"unauthenticated", grpcErr(codes.Unauthenticated, "a client certificate verified against the agent's CA is required"), exitAuth,
			"the agent refused your client certificate (/pki/client.crt)"},
		{"deadline", grpcErr(codes.DeadlineExceeded, "context deadline exceeded"), exitTimeout, "raise --timeout"},
		{"local deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), exitTimeout, "raise --timeout"},
		{"failed precondition", grpcErr(codes.FailedPrecondition, "unit is masked"), exitPrecondition, ""},
		{"invalid argument", grpcErr(codes.InvalidArgument, "bad glob"), exitUsage, ""},
		{"unimplemented", grpcErr(codes.Unimplemented, "no backend"), exitError, "no backend"},
		{"internal", grpcErr(codes.Internal, "boom"), exitError, ""},
		{"plain", errors.New("disk full"), exitError, ""},
		{"usage", usagef("bad flag"), exitUsage, ""},
		{"backend unavailable", grpcErr(codes.Unavailable, "unavailable: systemd is not reachable on the D-Bus system bus"), exitBackend,
			"`ctl heartbeat` lists its backends"},
		// Transport failures as grpc-go words them.
		{"refused", grpcErr(codes.Unavailable, `connection error: desc = "transport: Error while dialing: dial tcp 10.0.0.1:7443: connect: connection refused"`),
			exitUnavailable, "is ctld running on agent1:7443? start it with `ctld run`"},
		{"dns", grpcErr(codes.Unavailable, "name resolver error: produced zero addresses"), exitUnavailable, "is ctld running on agent1:7443?"},
		{"dial timeout", grpcErr(codes.Unavailable, `connection error: desc = "transport: Error while dialing: dial tcp 10.0.0.1:7443: i/o timeout"`),
			exitUnavailable, "is ctld running"},
		{"unknown authority", grpcErr(codes.Unavailable, `connection error: desc = "transport: authentication handshake failed: tls: failed to verify certificate: x509: certificate signed by unknown authority"`),
			exitAuth, "the agent's certificate is not signed by /pki/ca.crt; pass the agent's CA with --cacert"},
		{"name mismatch", grpcErr(codes.Unavailable, `connection error: desc = "transport: authentication handshake failed: tls: failed to verify certificate: x509: certificate is valid for web1, not agent1"`),
			exitAuth, "the agent's certificate is not valid for agent1; use --server-name or a name it lists"},
		{"no IP SANs", grpcErr(codes.Unavailable, `connection error: desc = "transport: authentication handshake failed: tls: failed to verify certificate: x509: cannot validate certificate for 10.0.0.1 because it doesn't contain any IP SANs"`),
			exitAuth, "use --server-name"},
		{"server cert expired", grpcErr(codes.Unavailable, `connection error: desc = "transport: authentication handshake failed: tls: failed to verify certificate: x509: certificate has expired or is not yet valid: current time 2030-01-01T00:00:00Z is after 2027-01-01T00:00:00Z"`),
			exitAuth, "has expired or is not yet valid"},
		{"alert certificate required", grpcErr(codes.Unavailable, `connection error: desc = "error reading server preface: remote error: tls: certificate required"`),
			exitAuth, "the agent refused your client certificate (/pki/client.crt): is it issued by the agent's CA and still valid?"},
		{"alert bad certificate", grpcErr(codes.Unavailable, `connection error: desc = "error reading server preface: remote error: tls: bad certificate"`),
			exitAuth, "the agent refused your client certificate"},
		{"alert unknown CA", grpcErr(codes.Unavailable, `connection error: desc = "error reading server preface: remote error: tls: unknown certificate authority"`),
			exitAuth, "the agent refused your client certificate"},
		{"alert expired", grpcErr(codes.Unavailable, `connection error: desc = "error reading server preface: remote error: tls: expired certificate"`),
			exitAuth, "the agent refused your client certificate"},
		{"plaintext agent", grpcErr(codes.Unavailable, `connection error: desc = "transport: authentication handshake failed: tls: first record does not look like a TLS handshake"`),
			exitAuth, "speaks plaintext"},
		{"agent stopping", grpcErr(codes.Unavailable, `connection error: desc = "error reading from server: EOF", received prior goaway: code: NO_ERROR, debug data: "graceful_stop"`),
			exitUnavailable, "closed the connection (stopping or restarting?)"},
		{"local credentials", &hintedError{errors.New("no client certificate"), exitAuth, "pass --cacert"}, exitAuth, "pass --cacert"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := wrapOp("do things", tt.err, nil)
			code, line := describe(err, "cmd", tg)
			if code != tt.code {
				t.Errorf("code %d, want %d (%s)", code, tt.code, line)
			}
			if tt.hint == "" && strings.Contains(line, "(hint: ") || tt.hint != "" && !strings.Contains(line, "(hint: ") {
				t.Errorf("hint presence wrong: %s", line)
			}
			if !strings.Contains(line, tt.hint) {
				t.Errorf("line %q lacks hint %q", line, tt.hint)
			}
			if !strings.HasPrefix(line, "ctl: do things: ") || strings.Contains(line, "\n") {
				t.Errorf("not one `ctl: <what failed>: ...` line: %q", line)
			}
		})
	}
}

func TestClassifyInsecureClientAgainstTLS(t *testing.T) {
	tg := target{host: "127.0.0.1:7443", insecure: true}
	for _, msg := range []string{`connection error: desc = "error reading server preface: EOF"`, `connection error: desc = "error reading server preface: http2: frame too large"`} {
		code, line := describe(grpcErr(codes.Unavailable, msg), "heartbeat", tg)
		if code != exitAuth || !strings.Contains(line, "requires mutual TLS; drop --insecure") {
			t.Errorf("%s: code %d line %q", msg, code, line)
		}
	}
}

func TestReasonUnwrapsTransportErrors(t *testing.T) {
	err := wrapOp("heartbeat", grpcErr(codes.Unavailable,
		`connection error: desc = "transport: authentication handshake failed: tls: failed to verify certificate: x509: certificate signed by unknown authority"`), nil)
	if got, want := reasonOf(err), "tls: failed to verify certificate: x509: certificate signed by unknown authority"; got != want {
		t.Errorf("reason %q, want %q", got, want)
	}
	goaway := grpcErr(codes.Unavailable, `connection error: desc = "error reading from server: EOF", received prior goaway: code: NO_ERROR, debug data: "graceful_stop"`)
	if got, want := reasonOf(goaway), `error reading from server: EOF, received prior goaway: code: NO_ERROR, debug data: "graceful_stop"`; got != want {
		t.Errorf("reason %q, want %q", got, want)
	}
	if got := reasonOf(grpcErr(codes.NotFound, "not found: unit x.service\nmore")); got != "not found: unit x.service more" {
		t.Errorf("reason %q", got)
	}
	if got := reasonOf(grpcErr(codes.PermissionDenied, "interactive authentication required")); got != "permission denied: interactive authentication required" {
		t.Errorf("reason %q", got)
	}
}

func TestCommandHintsOverrideGenericOnes(t *testing.T) {
	tg := target{host: "h:1"}
	code, line := describe(wrapOp("get service nginx", grpcErr(codes.NotFound, "not found: unit nginx.service"), svcHints("nginx")), "svc get", tg)
	if code != exitNotFound || line != "ctl: get service nginx: not found: unit nginx.service (hint: list services with `ctl svc ls`)" {
		t.Errorf("%d %q", code, line)
	}
	// ... but never the connection diagnosis.
	code, line = describe(wrapOp("stop service nginx", grpcErr(codes.Unavailable, `connection error: desc = "transport: Error while dialing: dial tcp 127.0.0.1:1: connect: connection refused"`), svcHints("nginx")), "svc stop", tg)
	if code != exitUnavailable || !strings.HasSuffix(line, "(hint: is ctld running on h:1? start it with `ctld run`)") {
		t.Errorf("%d %q", code, line)
	}
	code, line = describe(wrapOp("stop service nginx", grpcErr(codes.DeadlineExceeded, "nginx.service still deactivating after 30s"), svcHints("nginx")), "svc stop", tg)
	if code != exitTimeout || !strings.Contains(line, "raise --wait") {
		t.Errorf("%d %q", code, line)
	}
}
