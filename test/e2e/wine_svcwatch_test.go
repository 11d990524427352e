package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/remotectl/remotectl/internal/testutil"
)

// TestWineSvcWatch: ctld.exe under Wine polls the real (Wine) SCM, and the
// Linux `ctl svc watch` sees Spooler stop and start again over mTLS.
func TestWineSvcWatch(t *testing.T) {
	ctld := wineCtld(t)
	ctl, _ := binaries(t)
	env := startWineAgent(t, ctld)
	if _, errOut, code := runCtl(t, ctl, env, "svc", "start", "Spooler"); code != 0 {
		t.Fatalf("svc start Spooler (setup): exit %d: %s", code, errOut)
	}
	t.Cleanup(func() { runCtl(t, ctl, env, "svc", "start", "Spooler") })

	watch := exec.Command(ctl, "svc", "watch", "--name", "Spooler", "--existing", "-o", "json")
	watch.Env = append(os.Environ(), env...)
	var mu sync.Mutex
	var out, errOut bytes.Buffer
	watch.Stdout, watch.Stderr = lockedWriter{&mu, &out}, lockedWriter{&mu, &errOut}
	if err := watch.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = watch.Process.Kill(); _ = watch.Wait() })
	output := func() string { mu.Lock(); defer mu.Unlock(); return out.String() }
	await := func(what, substr string) {
		t.Helper()
		// Look after the last SYNCED or CHANGED to stopped: the poll may
		// catch the pending state on the way (stopped>starting>running).
		after := func() string {
			o := output()
			if i := strings.LastIndex(o, `"new_state":"stopped"`); i >= 0 && substr != `"new_state":"stopped"` {
				return o[i+1:]
			}
			return o
		}
		// The output grows from a pipe read in another goroutine: poll it.
		if !testutil.Poll(30*time.Second, func() bool { return strings.Contains(after(), substr) }) {
			mu.Lock()
			defer mu.Unlock()
			t.Fatalf("no %s within 30 s; stdout %q stderr %q", what, out.String(), errOut.String())
		}
	}
	await("SYNCED", `"type":"SYNCED"`)
	if _, e, code := runCtl(t, ctl, env, "svc", "stop", "Spooler"); code != 0 {
		t.Fatalf("svc stop Spooler: exit %d: %s", code, e)
	}
	await("stopped", `"new_state":"stopped"`)
	if _, e, code := runCtl(t, ctl, env, "svc", "start", "Spooler"); code != 0 {
		t.Fatalf("svc start Spooler: exit %d: %s", code, e)
	}
	await("running again", `"new_state":"running"`)
	_ = watch.Process.Signal(syscall.SIGINT)
	if err := watch.Wait(); err != nil {
		t.Fatalf("ctl svc watch after SIGINT: %v; stderr %q", err, errOut.String())
	}

	var got []string
	for _, line := range strings.Split(strings.TrimSpace(output()), "\n") {
		var ev struct {
			Type, Name string
			Old        string `json:"old_state"`
			New        string `json:"new_state"`
			MainPID    int32  `json:"main_pid"`
		}
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("not NDJSON: %q: %v", line, err)
		}
		if ev.Type != "SYNCED" && (ev.Name != "Spooler" || (ev.New == "running" && ev.MainPID <= 0)) {
			t.Errorf("unexpected event %s", line)
		}
		got = append(got, ev.Type+" "+ev.Old+">"+ev.New)
	}
	t.Logf("events: %s", strings.Join(got, ", "))
	// The 1 s poll may or may not catch the pending states in between.
	s := strings.Join(got, ",")
	s = strings.ReplaceAll(s, ",CHANGED running>stopping,CHANGED stopping>stopped", ",CHANGED running>stopped")
	s = strings.ReplaceAll(s, ",CHANGED stopped>starting,CHANGED starting>running", ",CHANGED stopped>running")
	if want := "EXISTING running>running,SYNCED >,CHANGED running>stopped,CHANGED stopped>running"; s != want {
		t.Errorf("events %q, want %q (pending states optional)", strings.Join(got, ","), want)
	}
}
