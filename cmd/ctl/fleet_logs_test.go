package main

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/remotectl/remotectl/server"
	"github.com/remotectl/remotectl/server/logs"
)

// TestFleetLogs reads and follows one file through two agents: a result
// per host, and a merged follow whose lines carry their host.
func TestFleetLogs(t *testing.T) {
	skipUnlessLinux(t)
	p := newTestPKI(t)
	dir := t.TempDir()
	var addrs []string
	for range 2 {
		reader, err := logs.New(logs.Config{Allow: []string{dir + "/**"}})
		if err != nil {
			t.Fatal(err)
		}
		addrs = append(addrs, startAgent(t, p, func(c *server.Config) { c.Logs = reader }))
	}
	path := filepath.Join(dir, "app.log")
	appendLine(t, path, "one")
	appendLine(t, path, "two")
	hosts := addrs[0] + "," + addrs[1]

	r := runCtl(ctxTimeout(t, 30*time.Second), t, nil, append(p.tlsArgs(), "--host", hosts, "-o", "json", "logs", path, "-n", "2")...)
	views := fleetJSON(t, r)
	if r.code != 0 || len(views) != 2 {
		t.Fatalf("exit %d, %d results: %s", r.code, len(views), r.stderr)
	}
	for _, v := range views {
		entries, _ := v.Result.([]any)
		if len(entries) != 2 || entries[1].(map[string]any)["message"] != "two" {
			t.Errorf("%s: %v", v.Host, v.Result)
		}
	}

	ctl := startLiveCtl(t, append(p.tlsArgs(), "--host", hosts, "-o", "json", "logs", path, "-f", "-n", "2")...)
	got := map[string]int{}
	for n := 0; n < 4; n++ {
		select {
		case b := <-ctl.lines:
			var e struct {
				Host    string `json:"host"`
				Message string `json:"message"`
			}
			if err := json.Unmarshal(b, &e); err != nil || e.Message == "" {
				t.Fatalf("NDJSON %q: %v", b, err)
			}
			got[e.Host]++
		case <-time.After(20 * time.Second):
			t.Fatalf("merged follow: %v after 20s; stderr %q", got, ctl.stderr.String())
		}
	}
	if got[addrs[0]] != 2 || got[addrs[1]] != 2 {
		t.Errorf("entries per host %v, want 2 each", got)
	}
	if code := ctl.stop(); code != 0 {
		t.Errorf("exit %d after Ctrl-C", code)
	}
}
