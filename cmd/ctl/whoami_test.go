package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
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
	if v.CommonName != "tester" || strings.Join(v.Roles, ",") != "admin" || len(v.Permissions) != 5 ||
		v.Serial == "" || v.AgentCertNotAfter == "" || len(v.ProtectedServices) == 0 {
		t.Fatalf("whoami: %+v", v)
	}
	r = runCtl(ctxTimeout(t, 20*time.Second), t, nil, append(append([]string{"--host", addr}, p.tlsArgs()...), "whoami")...)
	if r.code != 0 || !strings.Contains(r.stdout, "common name:") || !strings.Contains(r.stdout, "services.control") {
		t.Fatalf("whoami text: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}
