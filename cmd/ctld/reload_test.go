package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/remotectl/remotectl/internal/pki"
	"github.com/remotectl/remotectl/server/authz"
)

func TestWarnsWhenServerCertExpiresWithin14Days(t *testing.T) {
	dir := t.TempDir()
	ca, err := pki.NewCA("test CA", 30*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	caFile := write("ca.crt", ca.CertPEM())
	for _, c := range []struct {
		validity time.Duration
		warn     bool
	}{{13 * 24 * time.Hour, true}, {20 * 24 * time.Hour, false}} {
		certPEM, keyPEM, err := ca.IssueServer("", []string{"localhost"}, c.validity)
		if err != nil {
			t.Fatal(err)
		}
		st, err := pki.NewServerTLS(pki.ServerFiles{CA: caFile, Cert: write("s.crt", certPEM), Key: write("s.key", keyPEM)})
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		d := &daemon{log: zerolog.New(&buf), serverTLS: st}
		d.warnCertExpiry()
		if got := strings.Contains(buf.String(), "expires within 14 days"); got != c.warn {
			t.Errorf("validity %v: warned=%v, want %v (log %q)", c.validity, got, c.warn, buf.String())
		}
	}
}

// TestReloadIsAllOrNothing: when the TLS part of a SIGHUP reload fails (a
// CRL that cannot be read), the new authorization part is not applied
// either (issue 13, finding 14).
func TestReloadIsAllOrNothing(t *testing.T) {
	dir := t.TempDir()
	created, p, err := pki.EnsureDevPKI(filepath.Join(dir, "certs"), []string{"localhost"})
	if err != nil || !created {
		t.Fatal(err)
	}
	st, err := pki.NewServerTLS(pki.ServerFiles{CA: p.CACert, Cert: p.ServerCert, Key: p.ServerKey})
	if err != nil {
		t.Fatal(err)
	}
	next := defaultConfig()
	next.Authz.Bindings = []authz.Binding{{OU: "everyone", Role: authz.RoleAdmin}}
	next.TLS.CRL = filepath.Join(dir, "missing.crl")
	var buf bytes.Buffer
	d := &daemon{log: zerolog.New(&buf), serverTLS: st, cfg: defaultConfig(),
		tlsFiles: TLSConfig{CA: p.CACert, Cert: p.ServerCert, Key: p.ServerKey},
		load:     func() (Config, error) { return next, nil }}
	d.reloadOnSignal()
	if d.cfg.Authz.Bindings != nil || d.cfg.TLS.CRL != "" {
		t.Fatalf("the authorization part was applied although the TLS part failed: %+v", d.cfg.Authz)
	}
	if !strings.Contains(buf.String(), "not applied either") {
		t.Errorf("log does not say the policy was kept: %s", buf.String())
	}
}
