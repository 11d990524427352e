package main

import (
	"encoding/json"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// fleetJSON decodes a fan-out's -o json: one object per host.
func fleetJSON(t *testing.T, r result) []hostResultView {
	t.Helper()
	var views []hostResultView
	if err := json.Unmarshal([]byte(r.stdout), &views); err != nil {
		t.Fatalf("stdout is not a JSON array of hosts: %v\n%s\nstderr: %s", err, r.stdout, r.stderr)
	}
	return views
}

func TestFleetFanOutWithOneAgentKilled(t *testing.T) {
	p := newTestPKI(t)
	agents := startFleetAgents(t, p, 3)
	hosts := hostList(agents)
	tests := []struct {
		name string
		args []string
		ok   func(t *testing.T, v hostResultView)
	}{
		{"heartbeat", []string{"heartbeat"}, func(t *testing.T, v hostResultView) {
			if hb, _ := v.Result.(map[string]any); hb["hostname"] == nil || hb["rtt_seconds"] == nil {
				t.Errorf("%s: no heartbeat in %v", v.Host, v.Result)
			}
		}},
		{"ps --top 2", []string{"ps", "--top", "2", "--sort", "mem"}, func(t *testing.T, v hostResultView) {
			if procs, _ := v.Result.([]any); len(procs) != 2 {
				t.Errorf("%s: want 2 processes per host, got %v", v.Host, v.Result)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name+" all up", func(t *testing.T) {
			r := runCtl(ctxTimeout(t, 30*time.Second), t, nil, append(append(p.tlsArgs(), "--host", hosts, "-o", "json"), tt.args...)...)
			if r.code != 0 {
				t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
			}
			views := fleetJSON(t, r)
			if len(views) != 3 {
				t.Fatalf("want 3 results, got %d", len(views))
			}
			for i, v := range views {
				if v.Host != agents[i].addr || v.Error != nil {
					t.Errorf("result %d: host %q error %+v; want host %q and no error", i, v.Host, v.Error, agents[i].addr)
				}
				tt.ok(t, v)
			}
			if !strings.Contains(r.stderr, "3 hosts: 3 ok, 0 failed, 0 unreachable") {
				t.Errorf("summary missing: %q", r.stderr)
			}
		})
	}
	agents[1].stop()
	for _, tt := range tests {
		t.Run(tt.name+" one killed", func(t *testing.T) {
			r := runCtl(ctxTimeout(t, 30*time.Second), t, nil, append(append(p.tlsArgs(), "--host", hosts, "-o", "json"), tt.args...)...)
			if r.code != exitSomeUnreachable {
				t.Fatalf("exit %d, want %d (some unreachable); stderr %q", r.code, exitSomeUnreachable, r.stderr)
			}
			views := fleetJSON(t, r)
			if len(views) != 3 {
				t.Fatalf("want 3 results, got %d", len(views))
			}
			for i, v := range views {
				if i == 1 {
					if v.Error == nil || v.Error.Code != "unreachable" || v.Error.Message == "" || v.Result != nil {
						t.Errorf("dead host: %+v, want error code unreachable", v)
					}
					continue
				}
				if v.Error != nil {
					t.Errorf("live host %s: %+v", v.Host, v.Error)
				}
				tt.ok(t, v)
			}
			if !strings.Contains(r.stderr, "ctl: "+agents[1].addr+": ") || !strings.Contains(r.stderr, "3 hosts: 2 ok, 0 failed, 1 unreachable") {
				t.Errorf("stderr lacks the dead host's line or the summary: %q", r.stderr)
			}
		})
	}
}

func TestFleetTextOutputs(t *testing.T) {
	p := newTestPKI(t)
	agents := startFleetAgents(t, p, 2)
	args := append(p.tlsArgs(), "--host", agents[0].addr, "--host", agents[1].addr)
	ctx := ctxTimeout(t, 30*time.Second)

	r := runCtl(ctx, t, nil, append(args, "ps", "--top", "1")...)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != 0 || len(lines) != 3 || !strings.HasPrefix(lines[0], "HOST") || !strings.Contains(lines[0], "COMMAND") {
		t.Fatalf("ps over 2 hosts (repeated --host): exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for i, l := range lines[1:] {
		if !strings.HasPrefix(l, agents[i].addr) {
			t.Errorf("row %d does not start with its host: %q", i, l)
		}
	}

	r = runCtl(ctx, t, nil, append(args, "whoami", "--group")...)
	folded := strings.Split(r.stdout, "\n")
	if r.code != 0 || strings.Count(r.stdout, "common name: tester") != 1 || len(folded) < 2 ||
		!strings.Contains(folded[1], agents[0].addr) || !strings.Contains(folded[1], agents[1].addr) {
		t.Errorf("--group must fold identical whoami outputs under both hosts: exit %d\n%s", r.code, r.stdout)
	}

	r = runCtl(ctx, t, nil, append(args, "heartbeat")...)
	if r.code != 0 || strings.Count(r.stdout, "\n") != 2 || !strings.Contains(r.stdout, agents[1].addr+":  ") {
		t.Errorf("heartbeat lines per host: exit %d\n%s", r.code, r.stdout)
	}
}

func TestFleetMutationNeedsConfirmation(t *testing.T) {
	p := newTestPKI(t)
	args := append(p.tlsArgs(), "--host", "127.0.0.1:1,127.0.0.1:2")
	ctx := ctxTimeout(t, 30*time.Second)
	r := runCtl(ctx, t, nil, append(args, "svc", "stop", "nginx")...)
	if r.code != exitUsage || !strings.Contains(r.stderr, "needs confirmation") || !strings.Contains(r.stderr, "--yes") {
		t.Errorf("no TTY and no --yes: exit %d %q", r.code, r.stderr)
	}
	r = runCtl(ctx, t, nil, append(args, "--dry-run", "svc", "stop", "nginx")...)
	if r.code != 0 || r.stdout != "127.0.0.1:1\n127.0.0.1:2\n" {
		t.Errorf("--dry-run lists the targets: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
}

func TestFleetSvcStopOnSystemd(t *testing.T) {
	if os.Getenv("DBUS_SYSTEM_BUS_ADDRESS") == "" {
		t.Skip("no systemd: run `STATE=/tmp/rsd scripts/systemd-harness.sh up && . /tmp/rsd/env` (root), or `make test`")
	}
	const unit = "remotectl-fleet.service"
	p := newTestPKI(t)
	agents := startFleetAgents(t, p, 3)
	ctx := ctxTimeout(t, 60*time.Second)
	base := append(p.tlsArgs(), "--host", hostList(agents))
	t.Cleanup(func() {
		runCtl(ctxTimeout(t, 30*time.Second), t, nil, append(p.tlsArgs(), "--host", agents[0].addr, "svc", "start", unit)...)
	})
	if r := runCtl(ctx, t, nil, append(base, "--yes", "svc", "start", unit)...); r.code != 0 {
		t.Skipf("harness unit %s not usable (exit %d): %s", unit, r.code, r.stderr)
	}
	// One at a time: the first agent stops the shared unit, the others
	// find it stopped already.
	r := runCtl(ctx, t, nil, append(base, "--yes", "--parallel", "1", "-o", "json", "svc", "stop", unit)...)
	views := fleetJSON(t, r)
	if r.code != 0 || len(views) != 3 {
		t.Fatalf("stop on 3 agents: exit %d, %d results; %s", r.code, len(views), r.stderr)
	}
	changed := 0
	for _, v := range views {
		res, _ := v.Result.(map[string]any)
		svc, _ := res["service"].(map[string]any)
		if v.Error != nil || svc["state"] != "stopped" {
			t.Errorf("%s: %+v", v.Host, v)
		}
		if res["changed"] == true {
			changed++
		}
	}
	if changed != 1 {
		t.Errorf("%d hosts report a change, want 1", changed)
	}

	// Merged svc watch: every agent reports the change made through one.
	w := startLiveCtl(t, append(base, "-o", "json", "svc", "watch", "--existing", "--name", "remotectl-fleet*")...)
	seen := map[string]map[string]bool{}
	waitAll := func(typ string) {
		t.Helper()
		for n := 0; n < len(agents); {
			select {
			case b := <-w.lines:
				var ev struct {
					Host     string `json:"host"`
					Type     string `json:"type"`
					NewState string `json:"new_state"`
				}
				if err := json.Unmarshal(b, &ev); err != nil {
					t.Fatalf("NDJSON %q: %v", b, err)
				}
				if ev.Type == typ && (typ != "CHANGED" || ev.NewState == "running") {
					if seen[typ] == nil {
						seen[typ] = map[string]bool{}
					}
					if !seen[typ][ev.Host] {
						seen[typ][ev.Host] = true
						n++
					}
				}
			case <-ctx.Done():
				t.Fatalf("waiting for %s from every host: %v\n%s", typ, seen, w.stderr.String())
			}
		}
	}
	waitAll("SYNCED")
	if r := runCtl(ctx, t, nil, append(p.tlsArgs(), "--host", agents[0].addr, "svc", "start", unit)...); r.code != 0 {
		t.Fatalf("start through one agent: %d %s", r.code, r.stderr)
	}
	waitAll("CHANGED")
	if code := w.stop(); code != 0 {
		t.Errorf("svc watch exit %d after Ctrl-C", code)
	}

	agents[2].stop()
	r = runCtl(ctx, t, nil, append(base, "--yes", "-o", "json", "svc", "stop", unit)...)
	views = fleetJSON(t, r)
	if r.code != exitSomeUnreachable || views[2].Error == nil || views[2].Error.Code != "unreachable" || views[0].Error != nil {
		t.Errorf("stop with one agent killed: exit %d %+v\n%s", r.code, views, r.stderr)
	}
}

// TestFleetConnectTimeoutIsUnreachable: a host that accepts TCP but never
// speaks TLS is unreachable after --connect-timeout, apart from --timeout.
func TestFleetConnectTimeoutIsUnreachable(t *testing.T) {
	p := newTestPKI(t)
	agents := startFleetAgents(t, p, 1)
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = silent.Close() }()
	go func() {
		var held []net.Conn // held open, silent, until the listener closes
		for {
			c, err := silent.Accept()
			if err != nil {
				for _, c := range held {
					_ = c.Close()
				}
				return
			}
			held = append(held, c)
		}
	}()
	start := time.Now()
	r := runCtl(ctxTimeout(t, 30*time.Second), t, nil, append(p.tlsArgs(), "--host", agents[0].addr+","+silent.Addr().String(),
		"--connect-timeout", "300ms", "--timeout", "20s", "-o", "json", "heartbeat")...)
	took := time.Since(start)
	views := fleetJSON(t, r)
	if r.code != exitSomeUnreachable || len(views) != 2 || views[0].Error != nil || views[1].Error == nil ||
		views[1].Error.Code != "unreachable" || !strings.Contains(views[1].Error.Hint, "--connect-timeout") {
		t.Fatalf("exit %d %+v\n%s", r.code, views, r.stderr)
	}
	if took > 10*time.Second {
		t.Errorf("took %s: the connect timeout (300ms) must bound the silent host, not --timeout (20s)", took)
	}
}

// TestFleetOneHostCommandsRefuseMany: a command without a fan-out form
// (version asks one agent) never picks one of many hosts silently.
func TestFleetOneHostCommandsRefuseMany(t *testing.T) {
	r := runCtl(ctxTimeout(t, 30*time.Second), t, nil, "--host", "127.0.0.1:1,127.0.0.1:2", "version")
	if r.code != 0 || !strings.Contains(r.stderr, "works on one host at a time (2 selected)") || !strings.Contains(r.stdout, "client") {
		t.Errorf("exit %d\nstdout %q\nstderr %q", r.code, r.stdout, r.stderr)
	}
}
