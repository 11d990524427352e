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
