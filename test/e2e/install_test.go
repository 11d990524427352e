package e2e

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/remotectl/remotectl/internal/testutil"
)

// TestCtldInstallAsSystemdService installs ctld through kardianos/service
// into the harness's real systemd (its namespace shares the host network and
// file systems), starts it, drives it with ctl, then stops and removes it.
func TestCtldInstallAsSystemdService(t *testing.T) {
	nsPID := os.Getenv("REMOTECTL_SYSTEMD_NS_PID")
	if nsPID == "" || os.Geteuid() != 0 {
		t.Skip("needs root and the systemd harness: run `make test` as root (or scripts/systemd-harness.sh up and source its env)")
	}
	if _, err := exec.LookPath("nsenter"); err != nil {
		t.Skip("nsenter (util-linux) not installed")
	}
	ctl, ctld := binaries(t)
	state := t.TempDir()
	canary := filepath.Join(t.TempDir(), "canary")
	if err := os.WriteFile(canary, []byte("host file"), 0o600); err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	_ = lis.Close()

	inNS := func(args ...string) (string, error) {
		out, err := exec.Command("nsenter", append([]string{"-t", nsPID, "-m", "-p", ctld}, args...)...).CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	t.Cleanup(func() {
		_, _ = inNS("stop")
		_, _ = inNS("uninstall")
	})
	_, _ = inNS("uninstall") // a leftover from an interrupted run

	if out, err := inNS("install", "--listen", addr, "--state-dir", state, "--log-format", "json"); err != nil {
		t.Fatalf("ctld install: %v: %s", err, out)
	}
	unit, err := os.ReadFile(filepath.Join("/proc", nsPID, "root/etc/systemd/system/ctld.service"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"RestartSec=5", "ExecStart=" + ctld + ` "run"`, `"--listen=` + addr + `"`, "WantedBy=multi-user.target"} {
		if !strings.Contains(string(unit), want) {
			t.Fatalf("unit lacks %q:\n%s", want, unit)
		}
	}
	if out, err := inNS("start"); err != nil {
		t.Fatalf("ctld start: %v: %s", err, out)
	}
	if out, _ := inNS("status"); out != "running" {
		t.Fatalf("ctld status after start = %q", out)
	}

	env := []string{"CTLD_STATE_DIR=" + state, "CTL_HOST=" + addr}
	// The agent in the namespace announces nothing: poll it (bounded).
	var stderr string
	var code int
	if !testutil.Poll(15*time.Second, func() bool { _, stderr, code = runCtl(t, ctl, env, "heartbeat"); return code == 0 }) {
		t.Fatalf("the installed agent never answered: exit %d: %s", code, stderr)
	}
	// The agent sees itself as a running systemd service.
	out, stderr, code := runCtl(t, ctl, env, "svc", "get", "ctld", "-o", "json")
	if code != 0 || !strings.Contains(out, `"state": "running"`) || !strings.Contains(out, `"start_type": "automatic"`) {
		t.Fatalf("svc get ctld: exit %d, %s %s", code, out, stderr)
	}

	if out, err := inNS("stop"); err != nil {
		t.Fatalf("ctld stop: %v: %s", err, out)
	}
	if out, _ := inNS("status"); out != "stopped" {
		t.Fatalf("ctld status after stop = %q", out)
	}
	if _, _, code := runCtl(t, ctl, env, "heartbeat"); code != 5 {
		t.Fatalf("heartbeat after stop: exit %d, want 5 (unreachable)", code)
	}
	if out, err := inNS("uninstall"); err != nil {
		t.Fatalf("ctld uninstall: %v: %s", err, out)
	}
	if _, err := os.Stat(filepath.Join("/proc", nsPID, "root/etc/systemd/system/ctld.service")); !os.IsNotExist(err) {
		t.Fatalf("unit file still there after uninstall: %v", err)
	}
	// Starting a unit with default dependencies must not have touched the host.
	if b, err := os.ReadFile(canary); err != nil || string(b) != "host file" {
		t.Fatalf("host file damaged by the harness's systemd: %v", err)
	}
	t.Logf("installed, started, served %s, stopped and removed ctld (ns pid %s)", addr, strconv.Quote(nsPID))
}
