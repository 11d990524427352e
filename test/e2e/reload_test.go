package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/remotectl/remotectl/internal/testutil"
)

// startCtldWithConfig runs the real daemon with a config file and returns
// its address and process (for signals).
func startCtldWithConfig(t *testing.T, ctld, stateDir, config string) (string, *os.Process) {
	t.Helper()
	p := launchCtld(t, ctld, "--config", config, "--listen", "127.0.0.1:0", "--state-dir", stateDir)
	return p.addr, p.process()
}

// TestSIGHUPReloadsPolicyAndRevocation drives the real ctld: a viewer
// certificate is refused, allowed after a binding is added and SIGHUP
// sent, then revoked by serial and refused at handshake; every denial is
// in the audit log.
func TestSIGHUPReloadsPolicyAndRevocation(t *testing.T) {
	ctl, ctld := binaries(t)
	state := t.TempDir()
	config := filepath.Join(t.TempDir(), "ctld.yaml")
	auditLog := filepath.Join(t.TempDir(), "audit.log")
	writeYAML := func(body string) {
		t.Helper()
		if err := os.WriteFile(config, []byte("audit: {file: "+auditLog+"}\n"+body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeYAML("authz:\n  bindings: [{cn: remotectl-admin, role: admin}]\n")
	addr, proc := startCtldWithConfig(t, ctld, state, config)
	certs := filepath.Join(state, "certs")
	vera := t.TempDir()
	if _, stderr, code := runCtl(t, ctl, nil, "certs", "client", "--ca-dir", certs, "--cn", "vera", "--ou", "viewers", "--out", vera); code != 0 {
		t.Fatalf("issue viewer cert: %s", stderr)
	}
	asVera := []string{"--host", addr, "--cacert", filepath.Join(certs, "ca.crt"), "--cert", filepath.Join(vera, "client.crt"), "--key", filepath.Join(vera, "client.key")}
	asAdmin := []string{"CTLD_STATE_DIR=" + state, "CTL_HOST=" + addr}

	_, stderr, code := runCtl(t, ctl, nil, append(asVera, "ps", "--top", "1")...)
	if code == 0 || !strings.Contains(stderr, "missing permission processes.read") {
		t.Fatalf("unbound viewer: exit %d, %q; want a denial naming processes.read", code, stderr)
	}

	writeYAML("authz:\n  bindings: [{cn: remotectl-admin, role: admin}, {ou: viewers, role: viewer}]\n")
	if err := proc.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() bool {
		_, _, code := runCtl(t, ctl, nil, append(asVera, "ps", "--top", "1")...)
		return code == 0
	},
		"viewer allowed after the binding was added and SIGHUP sent")

	out, _, _ := runCtl(t, ctl, nil, append(asVera, "whoami", "-o", "json")...)
	var who struct{ Serial string }
	if err := json.Unmarshal([]byte(out), &who); err != nil || who.Serial == "" {
		t.Fatalf("whoami: %q %v", out, err)
	}
	writeYAML("authz:\n  bindings: [{cn: remotectl-admin, role: admin}, {ou: viewers, role: viewer}]\ntls:\n  revoked_serials: [\"" + who.Serial + "\"]\n")
	if err := proc.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() bool {
		_, stderr, code := runCtl(t, ctl, nil, append(asVera, "ps", "--top", "1")...)
		return code != 0 && strings.Contains(stderr, "refused your client certificate")
	}, "revoked viewer refused at handshake")
	if _, stderr, code := runCtl(t, ctl, asAdmin, "ps", "--top", "1"); code != 0 {
		t.Fatalf("admin after reload: exit %d %s", code, stderr)
	}
	data, err := os.ReadFile(auditLog)
	if err != nil {
		t.Fatal(err)
	}
	log := string(data)
	if !strings.Contains(log, `"method":"/remotectl.v1.ProcessService/ListProcesses","outcome":"PermissionDenied"`) ||
		!strings.Contains(log, `"method":"tls-handshake","outcome":"Unauthenticated"`) || !strings.Contains(log, "certificate revoked") {
		t.Fatalf("audit log lacks the denial or the revoked handshake:\n%s", log)
	}
}

// eventually polls ok (the agent re-reads its files on a timer; a new
// handshake shows the result) for up to 10 s.
func eventually(t *testing.T, ok func() bool, what string) {
	t.Helper()
	testutil.Eventually(t, 10*time.Second, what, ok)
}
