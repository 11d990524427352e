package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// binaries builds ctl and ctld once per test run.
func binaries(t *testing.T) (ctl, ctld string) {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "remotectl-e2e-bin")
		if buildErr != nil {
			return
		}
		out, err := exec.Command("go", "build", "-o", binDir+"/", "../../cmd/ctl", "../../cmd/ctld").CombinedOutput()
		if err != nil {
			buildErr = errors.New(string(out))
		}
	})
	if buildErr != nil {
		t.Fatalf("building ctl and ctld: %v", buildErr)
	}
	return filepath.Join(binDir, "ctl"), filepath.Join(binDir, "ctld")
}

// startCtld runs the real daemon on a loopback port with a fresh state dir
// (so its first-run dev PKI is exercised) and returns its address. SIGTERM
// at the end must drain and exit 0 within the shutdown timeout.
func startCtld(t *testing.T, ctld, stateDir string) string {
	t.Helper()
	p := launchCtld(t, ctld, "--listen", "127.0.0.1:0", "--state-dir", stateDir, "--poll-interval", "200ms")
	t.Cleanup(func() {
		if err := p.stop(t); err != nil || !p.stoppedCleanly() {
			t.Errorf("ctld did not stop cleanly on SIGTERM: %v\n%s", err, p.logs())
		}
	})
	return p.addr
}

// runCtl runs ctl and returns stdout, stderr and the exit code.
func runCtl(t *testing.T, ctl string, env []string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, ctl, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

func TestBinariesEndToEnd(t *testing.T) {
	ctl, ctld := binaries(t)
	state := t.TempDir()
	addr := startCtld(t, ctld, state)
	// No cert flags: ctl must find the daemon's first-run certificates in the
	// (here overridden) default state directory.
	env := []string{"CTLD_STATE_DIR=" + state, "CTL_HOST=" + addr}

	out, stderr, code := runCtl(t, ctl, env, "heartbeat", "-o", "json")
	var hb map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &hb) != nil || hb["hostname"] == "" || hb["os"] != "linux" {
		t.Fatalf("heartbeat: exit %d, stdout %q, stderr %q", code, out, stderr)
	}

	out, stderr, code = runCtl(t, ctl, env, "--host", addr, "ps", "--top", "5", "--sort", "mem", "-o", "json")
	var procs []struct {
		PID int32  `json:"pid"`
		RSS uint64 `json:"rss_bytes"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &procs) != nil || len(procs) != 5 {
		t.Fatalf("ps --top 5 --sort mem -o json: exit %d, %d entries, stdout %q, stderr %q", code, len(procs), out, stderr)
	}
	for i := 1; i < len(procs); i++ {
		if procs[i].RSS > procs[i-1].RSS {
			t.Fatalf("not sorted by memory: %+v", procs)
		}
	}

	out, _, code = runCtl(t, ctl, env, "ps", "--pid", strconv.Itoa(os.Getpid()))
	if code != 0 || !strings.Contains(out, "PID") || !strings.Contains(out, strconv.Itoa(os.Getpid())) {
		t.Fatalf("ps --pid self: exit %d\n%s", code, out)
	}

	t.Run("ps watch prints STARTED and EXITED", func(t *testing.T) { watchThroughCtl(t, ctl, env) })

	// Errors: distinct exit codes and a one-line hint.
	_, stderr, code = runCtl(t, ctl, env, "--host", "127.0.0.1:1", "heartbeat")
	if code != 5 || !strings.Contains(stderr, "hint") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Fatalf("unreachable agent: exit %d (want 5), stderr %q", code, stderr)
	}
	_, stderr, code = runCtl(t, ctl, env, "ps", "--sort", "sideways")
	if code != 2 {
		t.Fatalf("bad flag value: exit %d (want 2), stderr %q", code, stderr)
	}

	if os.Getenv("DBUS_SYSTEM_BUS_ADDRESS") == "" {
		t.Log("systemd part skipped: no DBUS_SYSTEM_BUS_ADDRESS (run under `make test` as root)")
		return
	}
	t.Run("svc stop and start on real systemd", func(t *testing.T) { serviceThroughCtl(t, ctl, env) })
}

func watchThroughCtl(t *testing.T, ctl string, env []string) {
	name := uniqueName("rctlc-")
	bin := namedSleep(t, name)
	// --existing: SYNCED says the watch is open before the child starts.
	w := startCtlStream(t, ctl, env, "ps", "watch", "--existing", "--name", name, "-o", "json")
	if l := w.next(t, 15*time.Second); l.ev.Type != "SYNCED" {
		t.Fatalf("first line %q, want SYNCED; stderr %s", l.raw, w.stderr.String())
	}
	child := exec.Command(bin, "1")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = child.Wait() }()

	var seen []string
	for len(seen) < 2 {
		l := w.next(t, 15*time.Second)
		if l.ev.Process.PID != child.Process.Pid {
			t.Fatalf("event for pid %d, want %d: %s", l.ev.Process.PID, child.Process.Pid, l.raw)
		}
		seen = append(seen, l.ev.Type)
	}
	if seen[0] != "STARTED" || seen[1] != "EXITED" {
		t.Fatalf("events %v, want [STARTED EXITED]", seen)
	}
	// Ctrl-C ends the watch with exit code 0.
	if err := w.interrupt(); err != nil {
		t.Fatalf("ctl ps watch after SIGINT: %v (stderr %s)", err, w.stderr.String())
	}
}

func serviceThroughCtl(t *testing.T, ctl string, env []string) {
	unitState := func() string {
		out, stderr, code := runCtl(t, ctl, env, "svc", "ls", "--name", ctlUnit, "-o", "json")
		var svcs []struct {
			Name, State string
		}
		if code != 0 || json.Unmarshal([]byte(out), &svcs) != nil || len(svcs) != 1 {
			t.Fatalf("svc ls: exit %d, stdout %q, stderr %q", code, out, stderr)
		}
		return svcs[0].State
	}
	t.Cleanup(func() { runCtl(t, ctl, env, "svc", "start", ctlUnit) })
	if _, stderr, code := runCtl(t, ctl, env, "svc", "start", ctlUnit); code != 0 {
		t.Fatalf("svc start: exit %d: %s", code, stderr)
	}
	out, stderr, code := runCtl(t, ctl, env, "svc", "stop", ctlUnit)
	if code != 0 {
		t.Fatalf("svc stop: exit %d: %s", code, stderr)
	}
	t.Logf("ctl svc stop %s: %s", ctlUnit, strings.TrimSpace(out))
	if st := unitState(); st != "stopped" {
		t.Fatalf("after svc stop, svc ls says %q", st)
	}
	out, _, _ = runCtl(t, ctl, env, "svc", "ls")
	if !strings.Contains(out, ctlUnit) {
		t.Fatalf("svc ls table lacks %s:\n%s", ctlUnit, out)
	}
	if _, stderr, code = runCtl(t, ctl, env, "svc", "start", ctlUnit); code != 0 || unitState() != "running" {
		t.Fatalf("svc start: exit %d: %s", code, stderr)
	}
	if _, stderr, code = runCtl(t, ctl, env, "svc", "get", "no-such-unit-xyz"); code != 3 {
		t.Fatalf("svc get unknown: exit %d (want 3), stderr %q", code, stderr)
	}
}
