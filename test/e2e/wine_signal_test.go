package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestWineStartTypesAndKillByIdentity: under Wine's SCM, the Linux ctl sets
// a service's start type through ctld.exe and reads it back with svc get,
// and terminates a Windows process by identity (OpenProcess, creation time
// checked on the handle, TerminateProcess).
func TestWineStartTypesAndKillByIdentity(t *testing.T) {
	ctld := wineCtld(t)
	ctl, _ := binaries(t)
	env := startWineAgent(t, ctld)
	run := func(args ...string) (string, string, int) { return runCtl(t, ctl, env, args...) }

	const svc = "Spooler"
	var before winService
	ctlJSON(t, ctl, env, &before, "svc", "get", svc)
	t.Cleanup(func() { run("svc", "set-start-type", svc, before.StartType) })
	for _, c := range []struct{ set, native string }{
		{"disabled", "DISABLED"}, {"manual", "DEMAND_START"}, {"automatic", "AUTO_START"}, {"manual", "DEMAND_START"},
	} {
		if _, stderr, code := run("svc", "set-start-type", svc, c.set); code != 0 {
			t.Fatalf("set-start-type %s: exit %d %q", c.set, code, stderr)
		}
		out, _, _ := run("svc", "get", svc)
		if !strings.Contains(out, "startup:      "+c.set+" ("+c.native+")") {
			t.Fatalf("after set-start-type %s, svc get says:\n%s", c.set, out)
		}
	}
	// Wine 8's SCM lacks SERVICE_CONFIG_DELAYED_AUTO_START_INFO: the agent
	// says so instead of pretending (real Windows sets the flag).
	if _, stderr, code := run("svc", "set-start-type", svc, "automatic_delayed"); code == 0 {
		out, _, _ := run("svc", "get", svc)
		if !strings.Contains(out, "automatic_delayed (AUTO_START_DELAYED)") {
			t.Fatalf("automatic_delayed accepted but reads back as:\n%s", out)
		}
	} else if !strings.Contains(stderr, "delayed auto-start flag") {
		t.Fatalf("automatic_delayed: exit %d %q", code, stderr)
	}
	if _, stderr, code := run("svc", "disable", "RpcSs"); code != 4 || !strings.Contains(stderr, "protected") {
		t.Errorf("disable RpcSs: exit %d %q; want 4, protected", code, stderr)
	}

	// A long-running Windows process: testdata/sleeper as victim.exe.
	victim := filepath.Join(t.TempDir(), "victim.exe")
	build := exec.Command("go", "build", "-o", victim, "./testdata/sleeper")
	build.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build victim.exe: %v\n%s", err, out)
	}
	vcmd := exec.Command("wine64", victim, "10m")
	if err := vcmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = vcmd.Process.Kill(); _ = vcmd.Wait() })
	var procs []struct {
		PID       int32  `json:"pid"`
		StartTime string `json:"start_time"`
	}
	deadline := time.Now().Add(30 * time.Second)
	for len(procs) != 1 && time.Now().Before(deadline) {
		ctlJSON(t, ctl, env, &procs, "ps", "--name", "victim.exe")
	}
	if len(procs) != 1 {
		t.Fatalf("victim.exe not listed: %+v", procs)
	}
	pid := strconv.Itoa(int(procs[0].PID))
	start, _ := time.Parse(time.RFC3339Nano, procs[0].StartTime)
	var self []struct {
		PID int32 `json:"pid"`
	}
	ctlJSON(t, ctl, env, &self, "ps", "--name", "ctld.exe")
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"kill", pid, "--start-time", start.Add(-time.Second).Format(time.RFC3339Nano)}, 3, "pid reused"},
		{[]string{"kill", pid, "--signal", "HUP"}, 2, "does not exist on Windows"},
	} {
		if _, stderr, code := run(c.args...); code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d %q; want %d mentioning %q", c.args, code, stderr, c.code, c.want)
		}
	}
	if len(self) == 1 {
		if _, stderr, code := run("kill", strconv.Itoa(int(self[0].PID))); code != 4 || !strings.Contains(stderr, "ctld itself") {
			t.Errorf("kill ctld.exe: exit %d %q", code, stderr)
		}
	}
	out, stderr, code := run("kill", pid, "--exit-code", "9")
	if code != 0 || !strings.Contains(out, "victim.exe): TERM sent; exited (code 9)") {
		t.Fatalf("kill victim.exe: exit %d %q %q", code, out, stderr)
	}
	ctlJSON(t, ctl, env, &procs, "ps", "--name", "victim.exe")
	if len(procs) != 0 {
		t.Fatalf("victim.exe still listed after kill: %+v", procs)
	}
}
