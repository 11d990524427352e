package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/remotectl/remotectl/server/authz"
)

func TestWhoamiAgainstRealAgent(t *testing.T) {
	p := newTestPKI(t)
	addr := startAgent(t, p)
	r := runCtl(ctxTimeout(t, 20*time.Second), t, nil, append(append([]string{"--host", addr}, p.tlsArgs()...), "whoami", "-o", "json")...)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var v whoamiView
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatalf("not JSON: %q: %v", r.stdout, err)
	}
	// The embedded test agent has no policy: every verified client is admin.
	if v.CommonName != "tester" || strings.Join(v.Roles, ",") != "admin" || len(v.Permissions) != len(authz.AllPermissions) ||
		v.Serial == "" || v.AgentCertNotAfter == "" || len(v.ProtectedServices) == 0 {
		t.Fatalf("whoami: %+v", v)
	}
	r = runCtl(ctxTimeout(t, 20*time.Second), t, nil, append(append([]string{"--host", addr}, p.tlsArgs()...), "whoami")...)
	if r.code != 0 || !strings.Contains(r.stdout, "common name:") || !strings.Contains(r.stdout, "services.control") {
		t.Fatalf("whoami text: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

func TestCertsClientWarnsWhenShortLived(t *testing.T) {
	caDir, cliDir := filepath.Join(t.TempDir(), "ca"), filepath.Join(t.TempDir(), "ops")
	if _, r := runApp(t, nil, "certs", "ca", "--out", caDir); r.code != 0 {
		t.Fatalf("ca: %d %s", r.code, r.stderr)
	}
	_, r := runApp(t, nil, "certs", "client", "--ca-dir", caDir, "--cn", "olga", "--ou", "operators",
		"--uri", "spiffe://example.org/ops/olga", "--validity", "2d", "--out", cliDir)
	if r.code != 0 || !strings.Contains(r.stderr, "WARNING") || !strings.Contains(r.stderr, "expires in") {
		t.Fatalf("short-lived client cert: exit %d, stderr %q; want an expiry WARNING", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "OU=operators") || !strings.Contains(r.stdout, "spiffe://example.org/ops/olga") {
		t.Fatalf("issued identity not shown: %s", r.stdout)
	}
	_, r = runApp(t, nil, "certs", "client", "--ca-dir", caDir, "--cn", "long", "--out", filepath.Join(t.TempDir(), "x"))
	if r.code != 0 || strings.Contains(r.stderr, "WARNING") {
		t.Fatalf("default-lifetime cert: exit %d, stderr %q; want no warning", r.code, r.stderr)
	}
}
