package e2e

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"testing"
	"time"
)

// `ctl svc watch` rides out a daemon restart like `ctl ps watch`: it
// reconnects by itself, prints RESYNC and the current state (the new daemon
// cannot resume the old numbering), then live changes.
func TestCtlSvcWatchSurvivesCtldRestart(t *testing.T) {
	if os.Getenv("DBUS_SYSTEM_BUS_ADDRESS") == "" {
		t.Skip("no systemd: run `scripts/systemd-harness.sh up && . /tmp/remotectl-systemd/env` (root), or `make test`")
	}
	ctl, ctld := binaries(t)
	state, addr := t.TempDir(), freeLoopbackAddr(t)
	stop := runCtldAt(t, ctld, state, addr)
	env := []string{"CTLD_STATE_DIR=" + state, "CTL_HOST=" + addr}
	svc := func(verb string) {
		t.Helper()
		if out, stderr, code := runCtl(t, ctl, env, "svc", verb, watchUnit); code != 0 {
			t.Fatalf("svc %s: exit %d %q %q", verb, code, out, stderr)
		}
	}
	svc("stop")

	cmd := exec.Command(ctl, "svc", "watch", "--name", watchUnit, "--existing", "-o", "json")
	cmd.Env = append(os.Environ(), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errb syncBuffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	type event struct {
		Seq      uint64 `json:"seq"`
		Type     string `json:"type"`
		NewState string `json:"new_state"`
	}
	events := make(chan event, 64)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var ev event
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				t.Errorf("not NDJSON: %q", sc.Text())
			}
			events <- ev
		}
		close(events)
	}()
	// expect skips CHANGED events on the way to a state (starting...).
	expect := func(typ, state string) event {
		t.Helper()
		deadline := time.After(20 * time.Second)
		for {
			select {
			case ev, ok := <-events:
				if !ok {
					t.Fatalf("stream ended; want %s %s; stderr %s", typ, state, errb.String())
				}
				if ev.Seq >= 1<<53 {
					t.Fatalf("seq %d is not JSON-safe", ev.Seq)
				}
				if ev.Type == typ && (state == "" || ev.NewState == state) {
					return ev
				}
				if ev.Type != "CHANGED" {
					t.Fatalf("got %+v, want %s %s; stderr %s", ev, typ, state, errb.String())
				}
			case <-deadline:
				t.Fatalf("no %s %s within 20s; stderr %s", typ, state, errb.String())
			}
		}
	}
	expect("EXISTING", "stopped")
	expect("SYNCED", "")
	svc("start")
	expect("CHANGED", "running")

	stop()
	restarted := time.Now()
	runCtldAt(t, ctld, state, addr)
	expect("RESYNC", "")
	t.Logf("RESYNC %v after the agent came back", time.Since(restarted).Round(time.Millisecond))
	expect("EXISTING", "running")
	expect("SYNCED", "")
	svc("stop")
	expect("CHANGED", "stopped")
	_ = cmd.Process.Signal(os.Interrupt)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("ctl svc watch after SIGINT: %v (stderr %s)", err, errb.String())
	}
}
