package e2e

import (
	"os"
	"strconv"
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

	lines, _ := ctlStream(t, ctl, env, "svc", "watch", "--name", watchUnit, "--existing", "-o", "json")
	// expect skips CHANGED events on the way to a state (starting...).
	expect := func(typ, state string) {
		t.Helper()
		got, ok := await(lines, 20*time.Second, func(l ctlLine) bool {
			return l.ev.Type == typ && (state == "" || l.ev.NewState == state)
		})
		for i, l := range got {
			if s, err := strconv.ParseUint(l.ev.Seq.String(), 10, 64); err != nil || s >= 1<<53 {
				t.Fatalf("seq %s is not JSON-safe", l.ev.Seq)
			}
			if l.ev.Type != "CHANGED" && i != len(got)-1 {
				t.Fatalf("got %s on the way to %s %s", l.raw, typ, state)
			}
		}
		if !ok {
			t.Fatalf("no %s %s within 20s", typ, state)
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
}
