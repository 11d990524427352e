package e2e

import (
	"encoding/json"
	"errors"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/remotectl/remotectl/internal/testutil/tlstest"
)

// killAudit is the part of an audit record a kill leaves.
type killAudit struct {
	Event, Method, Outcome, Target, Message string
	ProcessName                             string `json:"process_name"`
	ProcessArgs                             string `json:"process_args"`
	ProcessStart                            string `json:"process_start"`
	StateAfter                              string `json:"state_after"`
}

func killAudits(t *testing.T, path string) []killAudit {
	t.Helper()
	var out []killAudit
	for _, a := range tlstest.JSONLines[killAudit](t, path) {
		if strings.HasSuffix(a.Method, "/SignalProcess") {
			out = append(out, a)
		}
	}
	return out
}

// reaped starts a named sleep and reports how it ended.
func reaped(t *testing.T, bin string) (int, <-chan syscall.WaitStatus) {
	t.Helper()
	cmd := exec.Command(bin, "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	ended := make(chan syscall.WaitStatus, 1)
	go func() {
		var ee *exec.ExitError
		if err := cmd.Wait(); errors.As(err, &ee) {
			ended <- ee.Sys().(syscall.WaitStatus)
			return
		}
		ended <- 0
	}()
	return cmd.Process.Pid, ended
}

// TestCtlKillThroughRealBinaries drives ctl kill against a real ctld over
// mTLS: TERM and KILL end a spawned sleep and say how, a stale identity and
// protected targets are refused with their exit codes, --dry-run ends
// nothing, and every attempt is in the audit log with the target.
func TestCtlKillThroughRealBinaries(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("signals spawned Linux processes")
	}
	ctl, ctld := binaries(t)
	state, addr := t.TempDir(), freeLoopbackAddr(t)
	_, ctldPID := runCtld(t, ctld, state, addr)
	env := []string{"CTLD_STATE_DIR=" + state, "CTL_HOST=" + addr}
	name := uniqueName("rctlk-")
	bin := namedSleep(t, name)

	pid, ended := reaped(t, bin)
	out, stderr, code := runCtl(t, ctl, env, "kill", strconv.Itoa(pid))
	if code != 0 || !strings.Contains(out, "TERM sent; exited (killed by TERM)") {
		t.Fatalf("kill: exit %d, %q %q", code, out, stderr)
	}
	if ws := <-ended; ws.Signal() != syscall.SIGTERM {
		t.Fatalf("sleep ended with %v", ws)
	}

	pid, ended = reaped(t, bin)
	out, stderr, code = runCtl(t, ctl, env, "kill", strconv.Itoa(pid), "--signal", "KILL")
	if code != 0 || !strings.Contains(out, "KILL sent; exited (killed by KILL)") {
		t.Fatalf("kill -s KILL: exit %d, %q %q", code, out, stderr)
	}
	if ws := <-ended; ws.Signal() != syscall.SIGKILL {
		t.Fatalf("sleep ended with %v", ws)
	}

	// A real process with a start time that is not its own: what ctl would
	// hold had the pid been reused since it listed.
	pid, ended = reaped(t, bin)
	out, _, _ = runCtl(t, ctl, env, "ps", "--pid", strconv.Itoa(pid), "-o", "json")
	var listed []struct {
		StartTime string `json:"start_time"`
	}
	if err := json.Unmarshal([]byte(out), &listed); err != nil || len(listed) != 1 {
		t.Fatalf("ps: %q %v", out, err)
	}
	start, _ := time.Parse(time.RFC3339Nano, listed[0].StartTime)
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"kill", strconv.Itoa(pid), "--start-time", start.Add(-2 * time.Second).Format(time.RFC3339Nano), "-s", "KILL"}, 3, "pid reused"},
		{[]string{"kill", "1"}, 4, "pid 1 (init)"},
		{[]string{"kill", strconv.Itoa(ctldPID)}, 4, "ctld itself"},
		{[]string{"kill", "--name", name, "--dry-run"}, 0, "dry run: 1 process(es) would be sent TERM; none was"},
	} {
		_, stderr, code := runCtl(t, ctl, env, c.args...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d mentioning %q", c.args, code, stderr, c.code, c.want)
		}
	}
	select {
	case ws := <-ended:
		t.Fatalf("a refused kill or a dry run ended the process: %v", ws)
	default:
	}
	if out, _, code = runCtl(t, ctl, env, "kill", "--name", name, "--yes"); code != 0 || !strings.Contains(out, name+"): TERM sent; exited") {
		t.Fatalf("kill --name --yes: exit %d %q", code, out)
	}
	<-ended

	recs := killAudits(t, filepath.Join(state, "audit.log"))
	var denied, ok int
	for _, r := range recs {
		switch {
		case r.Event == "denied" && r.ProcessStart != "":
			denied++
		case r.Event == "result" && r.Outcome == "OK" && r.ProcessName == name && strings.HasPrefix(r.StateAfter, "exited"):
			ok++
		}
	}
	if denied != 2 || ok != 3 {
		t.Fatalf("audit: %d denials with the target's identity (want 2), %d OK results (want 3):\n%+v", denied, ok, recs)
	}
}
