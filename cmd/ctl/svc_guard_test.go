package main

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/remotectl/remotectl/server/service"
)

// TestE2ESvcStartPoweroffRefused: `ctl svc start systemd-poweroff` against
// an agent on the harness's real systemd exits 4 naming the rule, and the
// harness's systemd keeps running (issue 13, finding 1).
func TestE2ESvcStartPoweroffRefused(t *testing.T) {
	ctx := ctxTimeout(t, 60*time.Second)
	mgr := service.NewManager()
	defer mgr.Close()
	if st := mgr.Status(ctx); !st.Available {
		t.Skipf("systemd not reachable (%s): run scripts/systemd-harness.sh up and source its env", st.Reason)
	}
	if _, err := mgr.Get(ctx, "systemd-poweroff"); err != nil {
		t.Skipf("no systemd-poweroff.service on this systemd: %v", err)
	}
	p := newTestPKI(t)
	addr := startAgent(t, p)
	r := runCtl(ctx, t, nil, append(p.tlsArgs(), "--host", addr, "svc", "start", "systemd-poweroff")...)
	if r.code != exitAuth || !strings.Contains(r.stderr, `rule power_units "systemd-poweroff*"`) {
		t.Fatalf("exit %d stderr %q, want %d naming the power_units rule", r.code, r.stderr, exitAuth)
	}
	if st := mgr.Status(ctx); !st.Available {
		t.Fatalf("systemd is gone after the refused start: %s", st.Reason)
	}
	if pid := os.Getenv("REMOTECTL_SYSTEMD_NS_PID"); pid != "" {
		if comm, err := os.ReadFile("/proc/" + pid + "/comm"); err != nil || strings.TrimSpace(string(comm)) != "systemd" {
			t.Fatalf("the harness's systemd (pid %s) is gone: %q %v", pid, comm, err)
		}
	}
	t.Logf("ctl exit %d: %s", r.code, strings.TrimSpace(r.stderr))
}
