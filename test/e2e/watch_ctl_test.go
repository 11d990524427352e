package e2e

import (
	"bytes"
	"encoding/json"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// runCtldAt runs the real daemon on a fixed address and state dir, so that
// it can be restarted under a running client; stop sends SIGTERM and waits.
func runCtldAt(t *testing.T, ctld, stateDir, addr string) (stop func()) {
	t.Helper()
	stop, _ = runCtld(t, ctld, stateDir, addr)
	return stop
}

// runCtld is runCtldAt with extra arguments; it also returns the PID.
func runCtld(t *testing.T, ctld, stateDir, addr string, extra ...string) (stop func(), pid int) {
	t.Helper()
	p := launchCtld(t, ctld, append([]string{"--listen", addr, "--state-dir", stateDir, "--poll-interval", "200ms"}, extra...)...)
	return func() {
		if err := p.stop(t); err != nil {
			t.Errorf("ctld exit: %v\n%s", err, p.logs())
		}
	}, p.pid()
}

func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// `ctl ps watch` rides out a daemon restart: it reconnects by itself and,
// since the new daemon cannot resume the old numbering, prints RESYNC and
// the current matching processes before live events. Heartbeat names the
// producer.
func TestCtlPsWatchSurvivesCtldRestart(t *testing.T) {
	ctl, ctld := binaries(t)
	state, addr := t.TempDir(), freeLoopbackAddr(t)
	stop := runCtldAt(t, ctld, state, addr)
	env := []string{"CTLD_STATE_DIR=" + state, "CTL_HOST=" + addr}

	out, stderr, code := runCtl(t, ctl, env, "heartbeat", "-o", "json")
	var hb struct {
		Backends []struct{ Capability, Implementation string }
	}
	if code != 0 || json.Unmarshal([]byte(out), &hb) != nil {
		t.Fatalf("heartbeat: exit %d %q %q", code, out, stderr)
	}
	mode := ""
	for _, b := range hb.Backends {
		if b.Capability == "process_watch" {
			mode = b.Implementation
		}
	}
	if want := map[bool]string{true: "netlink", false: "poll"}[os.Geteuid() == 0]; mode != want {
		t.Fatalf("process_watch backend %q, want %q (euid %d)", mode, want, os.Geteuid())
	}

	name := uniqueName("rctlrs-")
	bin := namedSleep(t, name)
	// --existing: SYNCED says the watch is open before the first child starts.
	w := startCtlStream(t, ctl, env, "ps", "watch", "--existing", "--name", name, "-o", "json")
	expect := func(typ string, pid int) {
		t.Helper()
		if l := w.next(t, 20*time.Second); l.ev.Type != typ || pid != 0 && l.ev.Process.PID != pid {
			t.Fatalf("got %s, want %s pid %d; stderr %s", l.raw, typ, pid, w.stderr.String())
		}
	}
	expect("SYNCED", 0) // the watch is open
	first := spawn(t, bin, "60")
	expect("STARTED", first.Process.Pid)

	stop()
	runCtldAt(t, ctld, state, addr)
	expect("RESYNC", 0)
	expect("EXISTING", first.Process.Pid)
	expect("SYNCED", 0)
	second := spawn(t, bin, "60")
	expect("STARTED", second.Process.Pid)
	if !strings.Contains(w.stderr.String(), "reconnecting") {
		t.Errorf("no reconnect note on stderr: %q", w.stderr.String())
	}
	if err := w.interrupt(); err != nil {
		t.Fatalf("ctl ps watch after SIGINT: %v (stderr %s)", err, w.stderr.String())
	}
}

// syncBuffer is a bytes.Buffer safe for a writer process and a reader test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
