package e2e

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/remotectl/remotectl/internal/pki"
)

// Fleet scale figures (make bench-fleet; not in CI): REMOTECTL_FLEET_SCALE=1
// enables them; REMOTECTL_FLEET_AGENTS (1000) and REMOTECTL_FLEET_WATCH
// (5m) size them. Each prints FIGURE lines for docs/fleet.md and the notes.

func fleetScale(t *testing.T) {
	if os.Getenv("REMOTECTL_FLEET_SCALE") == "" {
		t.Skip("fleet scale run: set REMOTECTL_FLEET_SCALE=1 (make bench-fleet)")
	}
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

func envDuration(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil && d > 0 {
		return d
	}
	return def
}

// ctlFleet prepares the ctl binary's command line and environment for a
// fleet: the PKI's client identity and every agent's address.
func ctlFleet(t *testing.T, paths pki.Paths, agents []*stubAgent, args ...string) *exec.Cmd {
	ctl, _ := binaries(t)
	addrs := make([]string, len(agents))
	for i, a := range agents {
		addrs[i] = a.addr
	}
	full := append([]string{"--cacert", paths.CACert, "--cert", paths.ClientCert, "--key", paths.ClientKey,
		"--host", strings.Join(addrs, ",")}, args...)
	cmd := exec.Command(ctl, full...)
	cmd.Env = append(os.Environ(), "CTL_CONFIG="+filepath.Join(t.TempDir(), "none.yaml"))
	return cmd
}

// cmdCPU is the user plus system CPU time of a finished command.
func cmdCPU(cmd *exec.Cmd) time.Duration {
	return cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
}

func maxRSS(cmd *exec.Cmd) string {
	if b := maxRSSBytes(cmd); b > 0 {
		return mib(b)
	}
	return "?"
}

// startPiped starts cmd with its stdout on a pipe and its stderr kept.
func startPiped(t *testing.T, cmd *exec.Cmd) (io.Reader, *syncBuffer) {
	t.Helper()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return stdout, stderr
}

func TestFleetScaleHeartbeat(t *testing.T) {
	fleetScale(t)
	n := envInt("REMOTECTL_FLEET_AGENTS", 1000)
	paths := devPKI(t)
	agents := stubFleet(t, paths, n, 0, 0)
	for _, parallel := range []int{64, 1000} {
		cmd := ctlFleet(t, paths, agents, "--parallel", strconv.Itoa(parallel), "heartbeat", "-o", "json")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		start := time.Now()
		out, err := cmd.Output()
		took := time.Since(start)
		if err != nil {
			t.Fatalf("ctl heartbeat on %d agents: %v\n%s", n, err, stderr.String())
		}
		var results []struct {
			Host   string          `json:"host"`
			Result json.RawMessage `json:"result"`
			Error  *struct{ Code string }
		}
		if err := json.Unmarshal(out, &results); err != nil {
			t.Fatal(err)
		}
		ok := 0
		for _, r := range results {
			if r.Error == nil && len(r.Result) > 0 {
				ok++
			}
		}
		t.Logf("FIGURE heartbeat fan-out: %d agents, --parallel %d: %d ok in %s, ctl CPU %s, ctl max RSS %s (agents in this process, on the same cores)",
			n, parallel, ok, took.Round(time.Millisecond), cmdCPU(cmd).Round(time.Millisecond), maxRSS(cmd))
		if ok != n {
			t.Errorf("%d of %d agents answered\n%s", ok, n, stderr.String())
		}
		if parallel == 64 && (took > 5*time.Second || maxRSSBytes(cmd) > 300<<20) {
			t.Errorf("over budget: %s (<= 5s), RSS %s (< 300 MiB)", took, maxRSS(cmd))
		}
	}
}

// TestFleetScaleWatch runs ctl fleet watch over agents of which 10% answer
// 500 ms late, and counts false DOWN transitions.
func TestFleetScaleWatch(t *testing.T) {
	fleetScale(t)
	n := envInt("REMOTECTL_FLEET_AGENTS", 1000)
	d := envDuration("REMOTECTL_FLEET_WATCH", 5*time.Minute)
	paths := devPKI(t)
	slow := n / 10
	agents := stubFleet(t, paths, n, slow, 500*time.Millisecond)
	cmd := ctlFleet(t, paths, agents, "fleet", "watch", "-o", "json")
	stdout, stderr := startPiped(t, cmd)
	type tr struct{ Host, State, Previous, Reason string }
	lines := make(chan tr, 4096)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var v tr
			if err := json.Unmarshal(sc.Bytes(), &v); err == nil {
				lines <- v
			}
		}
		close(lines)
	}()
	stopAt := time.NewTimer(d)
	counts := map[string]int{}
	seen := map[string]bool{}
	var firstUp time.Duration
	start := time.Now()
	var downs []tr
loop:
	for {
		select {
		case v, ok := <-lines:
			if !ok {
				break loop
			}
			counts[v.Previous+"->"+v.State]++
			if v.State == "DOWN" {
				downs = append(downs, v)
			}
			if !seen[v.Host] && v.Previous == "UNKNOWN" {
				seen[v.Host] = true
				if len(seen) == n {
					firstUp = time.Since(start)
				}
			}
		case <-stopAt.C:
			_ = cmd.Process.Signal(os.Interrupt)
			stopAt.Reset(time.Hour)
		}
	}
	_ = cmd.Wait()
	t.Logf("FIGURE fleet watch: %d agents (%d slowed by 500ms per write) for %s: every host out of UNKNOWN after %s; transitions %v; false DOWN %d; ctl max RSS %s",
		n, slow, d, firstUp.Round(time.Millisecond), counts, len(downs), maxRSS(cmd))
	if len(seen) != n {
		t.Errorf("%d of %d hosts left UNKNOWN", len(seen), n)
	}
	if len(downs) > 0 {
		t.Errorf("%d false DOWN, e.g. %+v\n%s", len(downs), downs[0], stderr.String())
	}
}

// TestFleetScaleMergedPsWatch merges ps watch over agents and checks that
// every event of a burst on each arrives, with its host.
func TestFleetScaleMergedPsWatch(t *testing.T) {
	fleetScale(t)
	n := envInt("REMOTECTL_FLEET_WATCH_AGENTS", 100)
	const burst = 500
	paths := devPKI(t)
	agents := stubFleet(t, paths, n, 0, 0)
	cmd := ctlFleet(t, paths, agents, "ps", "watch", "-o", "json")
	stdout, stderr := startPiped(t, cmd)
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	for _, a := range agents {
		select {
		case <-a.watcher.subscribed:
		case <-time.After(30 * time.Second):
			t.Fatalf("not every agent was subscribed to\n%s", stderr.String())
		}
	}
	start := time.Now()
	for _, a := range agents {
		a.watcher.burst(burst)
	}
	got := map[string]map[int32]bool{}
	total := 0
	sc := bufio.NewScanner(stdout)
	deadline := time.AfterFunc(60*time.Second, func() { _ = cmd.Process.Kill() })
	defer deadline.Stop()
	for total < n*burst && sc.Scan() {
		var ev struct {
			Host    string
			Type    string
			Process struct{ PID int32 }
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		if ev.Type != "STARTED" {
			continue
		}
		if got[ev.Host] == nil {
			got[ev.Host] = map[int32]bool{}
		}
		if !got[ev.Host][ev.Process.PID] {
			got[ev.Host][ev.Process.PID] = true
			total++
		}
	}
	took := time.Since(start)
	t.Logf("FIGURE merged ps watch: %d agents x burst of %d: %d of %d events delivered with their host in %s", n, burst, total, n*burst, took.Round(time.Millisecond))
	for _, a := range agents {
		if len(got[a.addr]) != burst {
			t.Errorf("%s: %d of %d events\n%s", a.addr, len(got[a.addr]), burst, stderr.String())
			break
		}
	}
}
