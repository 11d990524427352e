package main

import (
	"crypto/tls"
	"errors"
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
