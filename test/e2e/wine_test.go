package e2e

import (
	"bytes"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/remotectl/remotectl/internal/testutil"
)

// The Wine lane: the Windows ctld.exe runs under wine64 against Wine's real
// service control manager and the Linux ctl drives it over mTLS on loopback.
// Needs the prefix of scripts/wine-harness.sh (make test-windows sets it up).

var (
	winBuildOnce sync.Once
	winCtld      string
	winBuildErr  error
)

// wineCtld skips without a Wine prefix and returns ctld.exe, built once.
func wineCtld(t *testing.T) string {
	t.Helper()
	if os.Getenv("WINEPREFIX") == "" {
		t.Skip("no Wine prefix: run `make test-windows` (or scripts/wine-harness.sh up && . /tmp/remotectl-wine/env)")
	}
	if _, err := exec.LookPath("wine64"); err != nil {
		t.Skip("wine64 not installed: run `make test-windows`")
	}
	winBuildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "remotectl-e2e-win")
		if err != nil {
			winBuildErr = err
			return
		}
		winCtld = filepath.Join(dir, "ctld.exe")
		cmd := exec.Command("go", "build", "-o", winCtld, "../../cmd/ctld")
		cmd.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			winBuildErr = errorString(string(out))
		}
	})
	if winBuildErr != nil {
		t.Fatalf("building ctld.exe: %v", winBuildErr)
	}
	return winCtld
}

type errorString string

func (e errorString) Error() string { return string(e) }

// privateDir is a temporary state directory ctld trusts: Wine maps mode
// bits to ACLs, and t.TempDir's 0755 reads as "Everyone may read", which
// ctld refuses for its state directory (keys inherit the directory's ACL).
func privateDir(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	if err := os.Chmod(d, 0o700); err != nil {
		t.Fatal(err)
	}
	return d
}

// winPath is how a Linux path looks to a Windows program under Wine.
func winPath(p string) string { return `Z:` + strings.ReplaceAll(p, "/", `\`) }

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

func wine(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("wine64", args...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// waitListening waits for addr to accept connections and for the dev PKI.
func waitListening(t *testing.T, addr, certs string, within time.Duration, logs func() string) {
	t.Helper()
	// A Wine process announces nothing to us: poll the port and the file.
	if testutil.Poll(within, func() bool {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			return false
		}
		_ = c.Close()
		_, err = os.Stat(filepath.Join(certs, "client.key"))
		return err == nil
	}) {
		return
	}
	t.Fatalf("ctld.exe did not listen on %s within %v; output:\n%s", addr, within, logs())
}

func ctlEnv(addr, certs string) []string {
	return []string{"CTL_HOST=" + addr, "CTL_CACERT=" + filepath.Join(certs, "ca.crt"),
		"CTL_CERT=" + filepath.Join(certs, "client.crt"), "CTL_KEY=" + filepath.Join(certs, "client.key")}
}

// ctlJSON runs ctl -o json and decodes its output into v.
func ctlJSON(t *testing.T, ctl string, env []string, v any, args ...string) time.Duration {
	t.Helper()
	start := time.Now()
	out, errOut, code := runCtl(t, ctl, env, append(args, "-o", "json")...)
	took := time.Since(start)
	if code != 0 {
		t.Fatalf("ctl %s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("ctl %s: %v in %q", strings.Join(args, " "), err, out)
	}
	return took
}

type winService struct {
	Name, State string
	StartType   string `json:"start_type"`
	MainPID     int32  `json:"main_pid"`
	Command     string
}

// startWineAgent runs "ctld.exe run" under Wine on a free loopback port and
// returns the environment that points ctl at it.
func startWineAgent(t *testing.T, ctld string) []string {
	t.Helper()
	state := privateDir(t)
	certs := filepath.Join(state, "certs")
	addr := freePort(t)
	cmd := exec.Command("wine64", ctld, "run", "--listen", addr, "--state-dir", winPath(state), "--log-format", "json")
	var logs bytes.Buffer
	var mu sync.Mutex
	cmd.Stdout, cmd.Stderr = lockedWriter{&mu, &logs}, lockedWriter{&mu, &logs}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	waitListening(t, addr, certs, 60*time.Second, func() string { mu.Lock(); defer mu.Unlock(); return logs.String() })
	t.Logf("ctld.exe under Wine serving on %s after %v", addr, time.Since(start).Round(time.Millisecond))
	return ctlEnv(addr, certs)
}

func TestWineCtldRunDrivenByLinuxCtl(t *testing.T) {
	ctld := wineCtld(t)
	ctl, _ := binaries(t)
	env := startWineAgent(t, ctld)

	var hb struct {
		OS          string          `json:"os"`
		LoadAverage json.RawMessage `json:"load_average"`
	}
	ctlJSON(t, ctl, env, &hb, "heartbeat")
	if hb.OS != "windows" {
		t.Errorf("heartbeat os = %q, want windows", hb.OS)
	}
	if len(hb.LoadAverage) > 0 && string(hb.LoadAverage) != "null" {
		t.Errorf("heartbeat load_average = %s; Windows has none and must not report zeros", hb.LoadAverage)
	}

	if _, errOut, code := runCtl(t, ctl, env, "svc", "start", "Spooler"); code != 0 {
		t.Fatalf("svc start Spooler (setup): exit %d: %s", code, errOut)
	}
	t.Cleanup(func() { runCtl(t, ctl, env, "svc", "start", "Spooler") })
	var res struct {
		Service  winService
		Previous string `json:"previous_state"`
		Changed  bool
	}
	took := ctlJSON(t, ctl, env, &res, "svc", "stop", "Spooler")
	if !res.Changed || res.Previous != "running" || res.Service.State != "stopped" {
		t.Fatalf("svc stop Spooler = %+v", res)
	}
	t.Logf("ctl svc stop Spooler: %v", took.Round(time.Millisecond))
	var ls []winService
	ctlJSON(t, ctl, env, &ls, "svc", "ls", "--name", "Spooler")
	if len(ls) != 1 || ls[0].State != "stopped" || ls[0].MainPID != 0 {
		t.Fatalf("svc ls after stop = %+v, want Spooler stopped", ls)
	}
	took = ctlJSON(t, ctl, env, &res, "svc", "start", "Spooler")
	if !res.Changed || res.Service.State != "running" || res.Service.MainPID <= 0 {
		t.Fatalf("svc start Spooler = %+v", res)
	}
	t.Logf("ctl svc start Spooler: %v", took.Round(time.Millisecond))

	var ps []struct {
		PID  int32   `json:"pid"`
		Name *string `json:"name"`
	}
	ctlJSON(t, ctl, env, &ps, "ps", "--name", "spoolsv.exe")
	if len(ps) != 1 || ps[0].PID != res.Service.MainPID {
		t.Errorf("ps --name spoolsv.exe = %+v, want the Spooler's main pid %d", ps, res.Service.MainPID)
	}

	// ListServices latency on Wine's SCM, end to end through ctl.
	var total time.Duration
	const n = 10
	for range n {
		total += ctlJSON(t, ctl, env, &ls, "svc", "ls")
	}
	t.Logf("ctl svc ls (%d services): %v average over %d calls", len(ls), (total / n).Round(time.Millisecond), n)
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func TestWineInstalledService(t *testing.T) {
	ctld := wineCtld(t)
	ctl, _ := binaries(t)
	state := privateDir(t)
	certs := filepath.Join(state, "certs")
	logFile := filepath.Join(state, "ctld.log")
	addr := freePort(t)
	if out, err := wine(t, ctld, "install", "--listen", addr, "--state-dir", winPath(state),
		"--log-file", winPath(logFile), "--log-format", "json"); err != nil {
		t.Fatalf("ctld.exe install: %v: %s", err, out)
	}
	t.Cleanup(func() {
		_, _ = wine(t, ctld, "stop")
		if out, err := wine(t, ctld, "uninstall"); err != nil {
			t.Errorf("ctld.exe uninstall: %v: %s", err, out)
		}
	})
	start := time.Now()
	if out, err := wine(t, ctld, "start"); err != nil {
		t.Fatalf("ctld.exe start: %v: %s", err, out)
	}
	readLog := func() string { b, _ := os.ReadFile(logFile); return string(b) }
	waitListening(t, addr, certs, 60*time.Second, readLog)
	t.Logf("installed ctld serving on %s %v after start", addr, time.Since(start).Round(time.Millisecond))
	// Still there a few seconds later: the SCM did not time the start out.
	testutil.Window(3 * time.Second) // an observation window, not a wait
	if out, _ := wine(t, ctld, "status"); strings.TrimSpace(lastLine(out)) != "running" {
		t.Fatalf("ctld.exe status = %q, want running", out)
	}
	env := ctlEnv(addr, certs)
	var s winService
	ctlJSON(t, ctl, env, &s, "svc", "get", "ctld")
	if s.State != "running" || s.StartType != "automatic" || s.MainPID <= 0 || !strings.Contains(s.Command, " run --service ") {
		t.Errorf("the installed ctld as its own SCM sees it = %+v", s)
	}
	var hb struct{ OS string }
	ctlJSON(t, ctl, env, &hb, "heartbeat")
	if hb.OS != "windows" {
		t.Errorf("heartbeat os = %q", hb.OS)
	}

	stopAt := time.Now()
	if out, err := wine(t, ctld, "stop"); err != nil {
		t.Fatalf("ctld.exe stop: %v: %s", err, out)
	}
	t.Logf("ctld.exe stop: %v", time.Since(stopAt).Round(time.Millisecond))
	if out, _ := wine(t, ctld, "status"); strings.TrimSpace(lastLine(out)) != "stopped" {
		t.Errorf("status after stop = %q", out)
	}
	if l := readLog(); !strings.Contains(l, `"ctld stopped"`) {
		t.Errorf("the service's log has no clean stop:\n%s", l)
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Errorf("%s still accepts connections after stop", addr)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// TestWineStopWithDependents registers a service that depends on Spooler (a
// second ctld in service mode, so a real program) and drives
// stop/restart --with-dependents through ctl.
func TestWineStopWithDependents(t *testing.T) {
	ctld := wineCtld(t)
	ctl, _ := binaries(t)
	env := startWineAgent(t, ctld)
	const dep = "RemotectlDep"
	bin := winPath(ctld) + " run --service --listen " + freePort(t) + " --state-dir " + winPath(privateDir(t))
	_, _ = wine(t, "sc", "delete", dep)
	// depend= goes last: Wine's sc.exe takes every following word as a dependency.
	if out, err := wine(t, "sc", "create", dep, "binPath=", bin, "depend=", "Spooler"); err != nil {
		t.Fatalf("sc create: %v: %s", err, out)
	}
	t.Cleanup(func() {
		_, _ = wine(t, "sc", "stop", dep)
		// Delete once stopped (bounded): a running service would linger.
		testutil.Poll(10*time.Second, func() bool {
			out, _, _ := runCtl(t, ctl, env, "svc", "get", dep, "-o", "json")
			return strings.Contains(out, `"state": "stopped"`)
		})
		_, _ = wine(t, "sc", "delete", dep)
		runCtl(t, ctl, env, "svc", "start", "Spooler")
	})
	for _, n := range []string{"Spooler", dep} {
		if _, errOut, code := runCtl(t, ctl, env, "svc", "start", n); code != 0 {
			t.Fatalf("svc start %s: exit %d: %s", n, code, errOut)
		}
	}
	var before winService
	ctlJSON(t, ctl, env, &before, "svc", "get", dep)
	if before.State != "running" || before.MainPID <= 0 {
		t.Fatalf("%s = %+v, want running", dep, before)
	}

	_, errOut, code := runCtl(t, ctl, env, "svc", "stop", "Spooler")
	if code != 7 || !strings.Contains(errOut, dep) || !strings.Contains(errOut, "--with-dependents") {
		t.Fatalf("svc stop Spooler with a running dependent: exit %d, stderr %q; want 7 naming %s", code, errOut, dep)
	}

	var res struct {
		Service winService
		Changed bool
	}
	ctlJSON(t, ctl, env, &res, "svc", "restart", "Spooler", "--with-dependents")
	if !res.Changed || res.Service.State != "running" {
		t.Fatalf("svc restart Spooler --with-dependents = %+v", res)
	}
	var after winService
	ctlJSON(t, ctl, env, &after, "svc", "get", dep)
	if after.State != "running" || after.MainPID == before.MainPID {
		t.Errorf("%s after the restart = %+v, want running again with a new pid (was %d)", dep, after, before.MainPID)
	}

	ctlJSON(t, ctl, env, &res, "svc", "stop", "Spooler", "--with-dependents")
	if res.Service.State != "stopped" {
		t.Fatalf("svc stop Spooler --with-dependents = %+v", res)
	}
	ctlJSON(t, ctl, env, &after, "svc", "get", dep)
	if after.State != "stopped" {
		t.Errorf("%s after stop --with-dependents = %+v, want stopped", dep, after)
	}
}
