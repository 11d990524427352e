package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	sddbus "github.com/coreos/go-systemd/v22/dbus"
	godbus "github.com/godbus/dbus/v5"

	"github.com/remotectl/remotectl/server"
	"github.com/remotectl/remotectl/server/logs"
)

// harnessJournal skips unless the systemd harness is up, makes sure its
// journald runs (the harness target does not pull it in), and returns the
// harness's journal directory as the host sees it.
func harnessJournal(t *testing.T) (*sddbus.Conn, string) {
	t.Helper()
	ns := os.Getenv("REMOTECTL_SYSTEMD_NS_PID")
	if ns == "" || os.Getenv("DBUS_SYSTEM_BUS_ADDRESS") == "" {
		t.Skip("no systemd harness: run `STATE=... scripts/systemd-harness.sh up && . STATE/env` (root), or `make test`")
	}
	ctx := ctxTimeout(t, 30*time.Second)
	conn, err := sddbus.NewSystemConnectionContext(ctx)
	if err != nil {
		t.Skipf("systemd harness not reachable: %v", err)
	}
	t.Cleanup(conn.Close)
	for _, u := range []string{"systemd-journald.socket", "systemd-journald.service"} {
		done := make(chan string, 1)
		if _, err := conn.StartUnitContext(ctx, u, "replace", done); err != nil {
			t.Fatalf("start %s: %v", u, err)
		}
		if r := <-done; r != "done" {
			t.Fatalf("start %s: %s", u, r)
		}
	}
	return conn, "/proc/" + ns + "/root/run/log/journal"
}

// startLoggingUnit runs a transient unit that prints "jline 0".."jline
// n-1" to the journal, a few milliseconds apart, then idles.
func startLoggingUnit(t *testing.T, conn *sddbus.Conn, n int) string {
	t.Helper()
	unit := uniqueName("remotectl-logs-") + ".service"
	script := fmt.Sprintf("i=0; while [ $i -lt %d ]; do echo jline $i; i=$((i+1)); sleep 0.01; done; exec sleep infinity", n)
	props := []sddbus.Property{
		sddbus.PropExecStart([]string{"/bin/sh", "-c", script}, false),
		{Name: "DefaultDependencies", Value: godbus.MakeVariant(false)},
	}
	ctx := ctxTimeout(t, 30*time.Second)
	done := make(chan string, 1)
	if _, err := conn.StartTransientUnitContext(ctx, unit, "replace", props, done); err != nil {
		t.Fatalf("start transient %s: %v", unit, err)
	}
	if r := <-done; r != "done" {
		t.Fatalf("start transient %s: %s", unit, r)
	}
	t.Cleanup(func() { _, _ = conn.StopUnitContext(context.Background(), unit, "replace", nil) })
	return unit
}

func jlines(t *testing.T, stdout string) ([]int, []logEntryView) {
	t.Helper()
	var nums []int
	var views []logEntryView
	for _, l := range strings.Split(strings.TrimSpace(stdout), "\n") {
		if l == "" {
			continue
		}
		var v logEntryView
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("not one JSON object per line: %q: %v", l, err)
		}
		var k int
		if _, err := fmt.Sscanf(v.Message, "jline %d", &k); err == nil {
			nums, views = append(nums, k), append(views, v)
		}
	}
	return nums, views
}

// TestE2ESvcLogsJournal: `ctl svc logs UNIT` reads the harness's journal
// through journalctl; a follow resumed with the cursor of the last entry
// read continues without loss or duplication.
func TestE2ESvcLogsJournal(t *testing.T) {
	conn, dir := harnessJournal(t)
	p := newTestPKI(t)
	reader, err := logs.New(logs.Config{Allow: []string{"journal:remotectl-logs-*"}, JournalDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	addr := startAgent(t, p, func(c *server.Config) { c.Logs = reader })
	const n = 200
	unit := startLoggingUnit(t, conn, n)
	base := append(p.tlsArgs(), "--host", addr, "-o", "json")

	// Wait, on a follow of the unit's journal, until 20 lines are there;
	// then read the last 20 lines written so far.
	waitCtx, stopWait := context.WithCancel(context.Background())
	var waitOut, waitErr syncBuffer
	waiter := newApp(&waitOut, &waitErr, envOf(map[string]string{"CTLD_STATE_DIR": t.TempDir()}))
	waitCode := make(chan int, 1)
	go func() { waitCode <- waiter.run(waitCtx, append(base, "svc", "logs", unit, "-f", "-n", "20")) }()
	waitFor(t, &waitOut, 20*time.Second, "20 of the unit's lines in the journal", func(s string) bool {
		return strings.Count(s, `"jline `) >= 20
	})
	stopWait()
	if code := <-waitCode; code != 0 {
		t.Fatalf("svc logs -f (waiting for lines): exit %d stderr %q", code, waitErr.String())
	}
	r := runCtl(ctxTimeout(t, 20*time.Second), t, nil, append(base, "svc", "logs", unit, "-n", "20")...)
	if r.code != 0 {
		t.Fatalf("svc logs: exit %d stderr %q", r.code, r.stderr)
	}
	first, views := jlines(t, r.stdout)
	if len(first) != 20 {
		t.Fatalf("svc logs -n 20 returned %d lines: %q", len(first), r.stdout)
	}
	for i := 1; i < len(first); i++ {
		if first[i] != first[i-1]+1 {
			t.Fatalf("read returned %v, not consecutive lines", first)
		}
	}
	last := views[len(views)-1]
	if last.Unit != unit || !strings.HasPrefix(last.Cursor, "j1:") || last.PID == 0 || last.Priority == "" {
		t.Fatalf("journal entry lacks unit/cursor/pid/priority: %+v", last)
	}

	// Follow from that cursor until the unit's last line.
	run := startCtl(t, append(base, "svc", "logs", unit, "-f", "--cursor", last.Cursor)...)
	stdout := &run.stdout
	waitFor(t, stdout, 30*time.Second, "the last jline", func(s string) bool { return strings.Contains(s, fmt.Sprintf(`"jline %d"`, n-1)) })
	run.stop(t, "svc logs -f")
	rest, _ := jlines(t, stdout.String())
	all := append(first, rest...)
	start := first[0]
	for i, k := range all {
		if k != start+i {
			t.Fatalf("line %d is jline %d, want %d: lost or duplicated across the resume (read %v, then %v...)", i, k, start+i, first, rest[:min(len(rest), 5)])
		}
	}
	if all[len(all)-1] != n-1 {
		t.Fatalf("ended at jline %d, want %d", all[len(all)-1], n-1)
	}
	t.Logf("read jline %d..%d, resumed with the cursor: %d more, none lost or repeated", first[0], first[len(first)-1], len(rest))

	// Outside the allow-list: refused with exit 4.
	r = runCtl(ctxTimeout(t, 20*time.Second), t, nil, append(base, "logs", "--unit", "dbus.service")...)
	if r.code != exitAuth || !strings.Contains(r.stderr, "journal:remotectl-logs-*") {
		t.Fatalf("dbus.service: exit %d stderr %q, want 4 naming the allow-list", r.code, r.stderr)
	}
}
