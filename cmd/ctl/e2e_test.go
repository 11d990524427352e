package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/remotectl/remotectl/internal/testutil"
	"github.com/remotectl/remotectl/server/service"
)

// End-to-end tests: the real command tree against a real in-process agent.

func skipUnlessLinux(t *testing.T) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("spawns processes and reads them back through procfs")
	}
}

func TestE2EPsTopSortMemJSON(t *testing.T) {
	p := newTestPKI(t)
	addr := startAgent(t, p)
	r := runCtl(ctxTimeout(t, 30*time.Second), t, nil, append(p.tlsArgs(), "--host", addr, "ps", "--top", "5", "--sort", "mem", "-o", "json")...)
	if r.code != 0 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	var procs []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &procs); err != nil {
		t.Fatalf("stdout is not a JSON array: %v\n%s", err, r.stdout)
	}
	if len(procs) != 5 {
		t.Fatalf("got %d processes, want 5", len(procs))
	}
	prev := -1.0
	for i, pr := range procs {
		rss, ok := pr["rss_bytes"].(float64)
		if !ok {
			t.Fatalf("process %d has no numeric rss_bytes: %v", i, pr)
		}
		if prev >= 0 && rss > prev {
			t.Errorf("not sorted by memory: %v after %v", rss, prev)
		}
		prev = rss
		for _, k := range []string{"pid", "ppid", "start_time", "name", "user", "status", "cpu_percent"} {
			if _, ok := pr[k]; !ok {
				t.Errorf("process %d lacks key %q: %v", i, k, pr)
			}
		}
	}
	if !regexpMatch(`^5 of \d+ processes\n$`, r.stderr) {
		t.Errorf("stderr = %q, want the '5 of M processes' note", r.stderr)
	}
}

// spawn copies /bin/sleep to a unique name and runs it for d.
func spawn(t *testing.T, name string, d time.Duration) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(testutil.NamedSleep(t, name), strconv.FormatFloat(d.Seconds(), 'f', -1, 64))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-done })
	return cmd
}

func uniqueName(prefix string) string {
	return fmt.Sprintf("%s%d", prefix, time.Now().UnixNano()%1_000_000) // <= 15 bytes: fits comm
}

func TestE2EPsByPID(t *testing.T) {
	skipUnlessLinux(t)
	p := newTestPKI(t)
	addr := startAgent(t, p)
	name := uniqueName("ctlpid")
	child := spawn(t, name, 30*time.Second)
	pid := strconv.Itoa(child.Process.Pid)
	ctx := ctxTimeout(t, 30*time.Second)

	r := runCtl(ctx, t, nil, append(p.tlsArgs(), "--host", addr, "ps", "--pid", pid, "-o", "json")...)
	if r.code != 0 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	var procs []processView
	if err := json.Unmarshal([]byte(r.stdout), &procs); err != nil {
		t.Fatal(err)
	}
	if len(procs) != 1 || strconv.Itoa(int(procs[0].PID)) != pid || deref(procs[0].Name) != name {
		t.Fatalf("ps --pid %s = %+v", pid, procs)
	}
	if got := strings.Join(procs[0].Args, " "); !strings.HasSuffix(got, name+" 30") {
		t.Errorf("args = %q", got)
	}

	// The same in table form, with a comma list including a PID that does not exist.
	r = runCtl(ctx, t, nil, append(p.tlsArgs(), "--host", addr, "ps", "--pid", pid+",999999999")...)
	if r.code != 0 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 2 || !regexpMatch(`^PID +PPID +USER +S +CPU% +RSS +VSZ +THR +STARTED +COMMAND$`, lines[0]) {
		t.Fatalf("table:\n%s", r.stdout)
	}
	if !strings.HasPrefix(lines[1], pid+" ") || !strings.HasSuffix(lines[1], name+" 30") {
		t.Errorf("row = %q", lines[1])
	}
	if i := strings.Index(lines[0], "COMMAND"); lines[1][i-1] != ' ' || !strings.HasPrefix(lines[1][i:], "/") {
		t.Errorf("COMMAND column not aligned:\n%s", r.stdout)
	}
}

// syncBuffer lets a test read what a running command has printed so far.
type syncBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	changed chan struct{} // closed and replaced on every write
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.changed != nil {
		close(s.changed)
		s.changed = nil
	}
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// snapshot returns the output so far and a channel closed by the next write.
func (s *syncBuffer) snapshot() (string, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.changed == nil {
		s.changed = make(chan struct{})
	}
	return s.b.String(), s.changed
}

// waitFor waits until cond holds on the output, re-checking on every write,
// or fails when d passes.
func waitFor(t *testing.T, out *syncBuffer, d time.Duration, what string, cond func(string) bool) {
	t.Helper()
	timeout := time.NewTimer(d)
	defer timeout.Stop()
	for {
		s, changed := out.snapshot()
		if cond(s) {
			return
		}
		select {
		case <-changed:
		case <-timeout.C:
			t.Fatalf("timed out waiting for %s; output so far:\n%s", what, out.String())
		}
	}
}

func TestE2EPsWatchJSON(t *testing.T) {
	skipUnlessLinux(t)
	p := newTestPKI(t)
	addr := startAgent(t, p)
	name := uniqueName("ctlw")

	run := startCtl(t, append(p.tlsArgs(), "--host", addr, "ps", "watch", "-o", "json", "--existing", "--name", name)...)
	stdout, stderr := &run.stdout, &run.stderr
	// SYNCED closes the (empty) existing set: the watch is live from here on.
	waitFor(t, stdout, 15*time.Second, "SYNCED", func(s string) bool { return strings.Contains(s, `"type":"SYNCED"`) })
	child := spawn(t, name, time.Second)
	waitFor(t, stdout, 15*time.Second, "EXITED", func(s string) bool { return strings.Contains(s, `"type":"EXITED"`) })
	run.stop(t, "ps watch")

	var types []string
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		var ev eventView
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("not one JSON object per line: %q: %v", line, err)
		}
		types = append(types, ev.Type)
		if ev.Type == "SYNCED" {
			continue
		}
		if ev.Process == nil || int(ev.Process.PID) != child.Process.Pid || deref(ev.Process.Name) != name {
			t.Errorf("event %s is not about the child %d: %s", ev.Type, child.Process.Pid, line)
		}
		if _, err := time.Parse(time.RFC3339Nano, ev.Time); err != nil || ev.Seq == 0 {
			t.Errorf("bad seq/time in %s", line)
		}
	}
	if got := strings.Join(types, ","); got != "SYNCED,STARTED,EXITED" {
		t.Errorf("event types = %s, want SYNCED,STARTED,EXITED", got)
	}
	if stderr.String() != "" {
		t.Errorf("stderr = %q", stderr.String())
	}
}

func envOf(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

func TestE2EHeartbeatJSON(t *testing.T) {
	p := newTestPKI(t)
	addr := startAgent(t, p)
	r := runCtl(ctxTimeout(t, 30*time.Second), t, nil, append(p.tlsArgs(), "--host", addr, "heartbeat", "-o", "json")...)
	if r.code != 0 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	var hb map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &hb); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"hostname", "os", "agent_version", "cpu_count", "memory_total_bytes", "process_count",
		"backends", "clock_skew_seconds", "rtt_seconds", "server_time", "agent_uptime_seconds"} {
		if _, ok := hb[k]; !ok {
			t.Errorf("heartbeat JSON lacks %q", k)
		}
	}
	if rtt, _ := hb["rtt_seconds"].(float64); rtt <= 0 || rtt > 5 {
		t.Errorf("rtt_seconds = %v", hb["rtt_seconds"])
	}
	if b, _ := hb["backends"].([]any); len(b) != 3 {
		t.Errorf("backends = %v", hb["backends"])
	}
}

func TestE2EHeartbeatWatchStopsOnCancel(t *testing.T) {
	p := newTestPKI(t)
	addr := startAgent(t, p)
	run := startCtl(t, append(p.tlsArgs(), "--host", addr, "heartbeat", "--watch", "100ms")...)
	stdout := &run.stdout
	waitFor(t, stdout, 10*time.Second, "two beats", func(s string) bool { return strings.Count(s, "\n") >= 2 })
	run.stop(t, "heartbeat --watch")
	for _, l := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		if !regexpMatch(`^\S+ host=\S+ up=\S+ cpu=[\d.]+% mem=\S+/\S+ load=\S+ procs=\d+ skew=[+-]\S+ rtt=\S+$`, l) {
			t.Errorf("beat line %q", l)
		}
	}
}

func TestE2EConnectionFailures(t *testing.T) {
	p := newTestPKI(t)
	other := newTestPKI(t)
	addr := startAgent(t, p)
	plainAddr := startAgent(t, nil)
	ctx := ctxTimeout(t, 60*time.Second)
	tests := []struct {
		name     string
		args     []string
		code     int
		contains []string
	}{
		{"insecure client, TLS agent", []string{"--host", addr, "--insecure", "heartbeat"}, exitAuth,
			[]string{"requires mutual TLS; drop --insecure"}},
		{"no certificate files", []string{"--host", addr, "heartbeat"}, exitAuth,
			[]string{"no client certificate", "state", "hint: pass --cacert/--cert/--key"}},
		{"agent signed by another CA", []string{"--host", addr, "--cacert", other.CACert, "--cert", p.ClientCert, "--key", p.ClientKey, "heartbeat"}, exitAuth,
			[]string{"x509: certificate signed by unknown authority", "is not signed by " + other.CACert}},
		{"name mismatch", append(p.tlsArgs(), "--host", addr, "--server-name", "wrong.example", "heartbeat"), exitAuth,
			[]string{"certificate is valid for", "not valid for wrong.example; use --server-name"}},
		{"client certificate from another CA", []string{"--host", addr, "--cacert", p.CACert, "--cert", other.ClientCert, "--key", other.ClientKey, "heartbeat"}, exitAuth,
			[]string{"remote error: tls:", "the agent refused your client certificate (" + other.ClientCert + ")"}},
		{"TLS client, plaintext agent", append(p.tlsArgs(), "--host", plainAddr, "heartbeat"), exitAuth,
			[]string{"first record does not look like a TLS handshake", "pass --insecure"}},
		{"nothing listening", append(p.tlsArgs(), "--host", "127.0.0.1:1", "ps"), exitUnavailable,
			[]string{"ctl: list processes: ", "connection refused", "is ctld running on 127.0.0.1:1? start it with `ctld run`"}},
		{"insecure client, plaintext agent", []string{"--host", plainAddr, "--insecure", "heartbeat"}, exitOK, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCtl(ctx, t, nil, tt.args...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d; stderr %q", r.code, tt.code, r.stderr)
			}
			if tt.code == exitOK {
				return
			}
			if r.stdout != "" || strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "ctl: ") || !strings.Contains(r.stderr, "(hint: ") {
				t.Errorf("want one `ctl: ... (hint: ...)` line on stderr only; stdout %q stderr %q", r.stdout, r.stderr)
			}
			for _, c := range tt.contains {
				if !strings.Contains(r.stderr, c) {
					t.Errorf("stderr %q lacks %q", r.stderr, c)
				}
			}
		})
	}
}

func TestE2EServiceBackend(t *testing.T) {
	p := newTestPKI(t)
	addr := startAgent(t, p)
	ctx := ctxTimeout(t, 30*time.Second)
	mgr := service.NewManager()
	defer mgr.Close()
	available := mgr.Status(ctx).Available
	name := uniqueName("ctl-none-")
	r := runCtl(ctx, t, nil, append(p.tlsArgs(), "--host", addr, "svc", "get", name)...)
	if available {
		if r.code != exitNotFound || !strings.Contains(r.stderr, "list services with `ctl svc ls`") {
			t.Fatalf("with systemd: exit %d stderr %q, want 3 and the svc ls hint", r.code, r.stderr)
		}
		return
	}
	if r.code != exitBackend || !strings.Contains(r.stderr, "ctl: get service "+name+": ") || !strings.Contains(r.stderr, "(hint: ") {
		t.Fatalf("without systemd: exit %d stderr %q, want 8 and a hint", r.code, r.stderr)
	}
}

func TestE2EDefaultCertsDir(t *testing.T) {
	p := newTestPKI(t)
	addr := startAgent(t, p)
	// The dev layout: STATE_DIR/certs/{ca.crt,client.crt,client.key}.
	state := t.TempDir()
	if err := os.Symlink(p.dir, filepath.Join(state, "certs")); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"CTLD_STATE_DIR": state, "CTL_HOST": addr, "CTL_OUTPUT": "json"}
	r := runCtl(ctxTimeout(t, 30*time.Second), t, env, "version")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d stderr %q", r.code, r.stderr)
	}
	var v versionView
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || v.Agent == nil || v.Agent.Host != addr {
		t.Fatalf("version JSON %s (%v)", r.stdout, err)
	}
}

func TestE2EVersionUnreachable(t *testing.T) {
	p := newTestPKI(t)
	r := runCtl(ctxTimeout(t, 30*time.Second), t, nil, append(p.tlsArgs(), "--host", "127.0.0.1:1", "version")...)
	if r.code != 0 || !strings.HasPrefix(r.stdout, "client: ") || strings.Contains(r.stdout, "agent") {
		t.Fatalf("exit %d stdout %q", r.code, r.stdout)
	}
	if !strings.HasPrefix(r.stderr, "ctl: note: ") || !strings.Contains(r.stderr, "connection refused") {
		t.Errorf("stderr %q", r.stderr)
	}
}
