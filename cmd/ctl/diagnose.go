package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/remotectl/remotectl/client"
	"github.com/remotectl/remotectl/internal/pki"
)

// probeTimeout bounds the diagnostic handshake.
const probeTimeout = 3 * time.Second

// diagnose refines an ambiguous connection failure. In TLS 1.3 the client's
// handshake completes before the agent checks the client certificate, so
// when the agent refuses it, grpc-go usually reports only the aftermath
// ("broken pipe", "connection reset", "EOF") and the agent's alert is lost.
// A bare handshake followed by a read, writing nothing, receives the alert
// intact ("remote error: tls: unknown certificate authority").
func (a *app) diagnose(err error) error {
	if err != nil && errors.Is(err, client.ErrUnavailable) && unresolved(statusMessage(err)) {
		return a.resolveError(err)
	}
	t := a.target
	if err == nil || t.insecure || t.cert == "" || t.key == "" || !errors.Is(err, client.ErrUnavailable) {
		return err
	}
	m := strings.ToLower(statusMessage(err))
	ambiguous := false
	for _, s := range []string{"broken pipe", "connection reset", "eof", "error reading server preface", "connection closed"} {
		ambiguous = ambiguous || strings.Contains(m, s)
	}
	if !ambiguous {
		return err
	}
	if alert := probeTLS(t); alert != nil {
		var oe *opError
		if errors.As(err, &oe) {
			return &opError{op: oe.op, err: &hintedError{alert, exitAuth, clientCertHint(t)}}
		}
		return &hintedError{alert, exitAuth, clientCertHint(t)}
	}
	return err
}

// probeTLS returns the agent's TLS alert, or nil if there was none.
func probeTLS(t target) error {
	cfg, err := pki.ClientTLSConfig(t.cacert, t.cert, t.key, t.serverName)
	if err != nil {
		return nil
	}
	if cfg.ServerName == "" {
		cfg.ServerName = hostOnly(t.host)
	}
	d := &net.Dialer{Timeout: probeTimeout}
	conn, err := tls.DialWithDialer(d, "tcp", t.host, cfg)
	if err != nil {
		if strings.Contains(err.Error(), "remote error: tls:") {
			return err
		}
		return nil
	}
	defer func() { _ = conn.Close() }()
	_ = conn.SetReadDeadline(time.Now().Add(probeTimeout))
	if _, err := conn.Read(make([]byte, 1)); err != nil && strings.Contains(err.Error(), "remote error: tls:") {
		return err
	}
	return nil
}

// unresolved recognizes grpc-go's wording for a host name that did not
// resolve ("name resolver error: produced zero addresses").
func unresolved(msg string) bool {
	return strings.Contains(msg, "produced zero addresses") || strings.Contains(msg, "name resolver error") ||
		strings.Contains(msg, "dns: A record lookup error")
}

// resolveError replaces gRPC's resolver jargon with the resolver's own
// answer for the host name ("lookup web-7: no such host").
func (a *app) resolveError(err error) error {
	host := hostOnly(a.target.host)
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	reason := fmt.Errorf("cannot resolve the agent's host name %q", host)
	if _, lerr := net.DefaultResolver.LookupHost(ctx, host); lerr != nil {
		reason = fmt.Errorf("cannot resolve the agent's host name: %w", lerr)
	}
	he := &hintedError{reason, exitUnavailable, "check the name (DNS, /etc/hosts) or pass an IP address with --host"}
	var oe *opError
	if errors.As(err, &oe) {
		return &opError{op: oe.op, err: he}
	}
	return he
}
