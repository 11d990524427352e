package main

import (
	"encoding/json"
	"testing"
	"time"
)

// TestFleetMergedPsWatchResyncsPerHost merges ps watch over two agents,
// restarts one, and checks that only that host resyncs while both keep
// delivering events with their host.
func TestFleetMergedPsWatchResyncsPerHost(t *testing.T) {
	skipUnlessLinux(t)
	p := newTestPKI(t)
	agents := startFleetAgents(t, p, 2)
	name := uniqueName("fleetw")
	ctl := startLiveCtl(t, append(p.tlsArgs(), "--host", hostList(agents), "-o", "json", "ps", "watch", "--existing", "--name", name)...)
	type line struct {
		Host    string `json:"host"`
		Type    string `json:"type"`
		Process *struct {
			PID int `json:"pid"`
		} `json:"process"`
	}
	lines := make(chan line, 64)
	go func() {
		for b := range ctl.lines {
			var l line
			if err := json.Unmarshal(b, &l); err != nil {
				t.Errorf("NDJSON %q: %v", b, err)
			}
			lines <- l
		}
		close(lines)
	}()
	// until reads lines until want says every expected (host, type) came.
	until := func(what string, want map[string]map[string]bool) []line {
		t.Helper()
		var got []line
		deadline := time.After(20 * time.Second)
		for {
			missing := false
			for _, types := range want {
				for _, ok := range types {
					missing = missing || !ok
				}
			}
			if !missing {
				return got
			}
			select {
			case l := <-lines:
				got = append(got, l)
				if types, ok := want[l.Host]; ok {
					if _, ok := types[l.Type]; ok {
						types[l.Type] = true
					}
				}
			case <-deadline:
				t.Fatalf("%s: still waiting for %v; got %+v", what, want, got)
			}
		}
	}
	h0, h1 := agents[0].addr, agents[1].addr
	until("snapshots", map[string]map[string]bool{h0: {"SYNCED": false}, h1: {"SYNCED": false}})

	spawn(t, name, 30*time.Second)
	until("first child", map[string]map[string]bool{h0: {"STARTED": false}, h1: {"STARTED": false}})

	agents[1].stop()
	agents[1].start()
	got := until("restarted host's resync", map[string]map[string]bool{h1: {"RESYNC": false, "EXISTING": false, "SYNCED": false}})
	for _, l := range got {
		if l.Host == h0 && l.Type != "STARTED" && l.Type != "EXITED" {
			t.Errorf("the host that stayed up must not resync: %+v", l)
		}
	}

	spawn(t, name, 30*time.Second)
	until("second child", map[string]map[string]bool{h0: {"STARTED": false}, h1: {"STARTED": false}})
	if code := ctl.stop(); code != 0 {
		t.Errorf("exit %d after Ctrl-C, want 0", code)
	}
}
