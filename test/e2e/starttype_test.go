package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// bootUnit is the systemd harness's installable unit reserved for the
// start-type tests (enabled and disabled here only).
const bootUnit = "remotectl-boot.service"

// TestCtlSvcEnableDisableOnSystemd drives svc enable/disable/set-start-type
// through the real binaries against the systemd harness, and checks the
// unit file's enablement link inside the harness's mount namespace.
func TestCtlSvcEnableDisableOnSystemd(t *testing.T) {
	requireSystemd(t)
	ctl, ctld := binaries(t)
	state, addr := t.TempDir(), freeLoopbackAddr(t)
	runCtldAt(t, ctld, state, addr)
	env := []string{"CTLD_STATE_DIR=" + state, "CTL_HOST=" + addr}
	run := func(args ...string) (string, string, int) { return runCtl(t, ctl, env, args...) }
	t.Cleanup(func() { run("svc", "disable", bootUnit, "--now") })
	link := ""
	if ns := os.Getenv("REMOTECTL_SYSTEMD_NS_PID"); ns != "" {
		link = filepath.Join("/proc", ns, "root/etc/systemd/system/remotectl-harness.target.wants", bootUnit)
	}
	linked := func() bool { _, err := os.Lstat(link); return err == nil }

	if _, stderr, code := run("svc", "disable", bootUnit, "--now"); code != 0 {
		t.Fatalf("disable: exit %d %q", code, stderr)
	}
	out, stderr, code := run("svc", "get", bootUnit)
	if code != 0 || !strings.Contains(out, "manual (disabled)") || !strings.Contains(out, "stopped") {
		t.Fatalf("get after disable: exit %d\n%s%s", code, out, stderr)
	}
	if link != "" && linked() {
		t.Fatalf("%s still exists after disable", link)
	}

	out, stderr, code = run("svc", "enable", bootUnit, "--now")
	if code != 0 || !strings.Contains(out, "startup manual (disabled) -> automatic (enabled); stopped -> running") {
		t.Fatalf("enable --now: exit %d %q %q", code, out, stderr)
	}
	if out, _, _ = run("svc", "get", bootUnit); !strings.Contains(out, "automatic (enabled)") || !strings.Contains(out, "running (active/running)") {
		t.Fatalf("get after enable --now:\n%s", out)
	}
	if link != "" && !linked() {
		t.Fatalf("enable made no link %s", link)
	}
	if out, _, code = run("svc", "enable", bootUnit); code != 0 || !strings.Contains(out, "(no change)") {
		t.Fatalf("second enable: exit %d %q", code, out)
	}
	out, stderr, code = run("svc", "set-start-type", bootUnit, "manual", "--now")
	if code != 0 || !strings.Contains(out, "automatic (enabled) -> manual (disabled); running -> stopped") {
		t.Fatalf("set-start-type manual --now: exit %d %q %q", code, out, stderr)
	}

	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"svc", "disable", "dbus"}, 4, `protected (rule protected_services "dbus*")`},
		{[]string{"svc", "enable", "systemd-journald"}, 4, "protected"},
		{[]string{"svc", "enable", "remotectl-masked"}, 7, "is masked"},
		{[]string{"svc", "enable", "remotectl-fail"}, 7, `still "static" after enabling`},
		{[]string{"svc", "set-start-type", bootUnit, "automatic_delayed"}, 2, "only on Windows"},
		{[]string{"svc", "set-start-type", bootUnit, "sometimes"}, 2, "invalid start type"},
		{[]string{"svc", "enable", "remotectl-nonexistent"}, 3, "not found"},
	} {
		if _, stderr, code := run(c.args...); code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d %q; want %d mentioning %q", c.args, code, stderr, c.code, c.want)
		}
	}
	// The audit log has the start-type changes with their state transitions.
	audit, err := os.ReadFile(filepath.Join(state, "audit.log"))
	if err != nil || !strings.Contains(string(audit), `"method":"/remotectl.v1.ServiceManager/SetServiceStartType","outcome":"OK","target":"`+bootUnit+`","state_before":"stopped","state_after":"running"`) {
		t.Fatalf("audit log lacks the enable --now result: %v\n%s", err, audit)
	}
}
