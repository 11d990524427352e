package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/remotectl/remotectl/internal/testutil"
	"github.com/remotectl/remotectl/server"
	"github.com/remotectl/remotectl/server/logs"
)

// logsAgent starts an agent whose logs allow-list is a temporary directory.
func logsAgent(t *testing.T, p *testPKI) (addr, dir string) {
	t.Helper()
	dir = t.TempDir()
	reader, err := logs.New(logs.Config{Allow: []string{dir + "/**"}})
	if err != nil {
		t.Fatal(err)
	}
	return startAgent(t, p, func(c *server.Config) { c.Logs = reader }), dir
}

func appendLine(t *testing.T, path, line string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Error(err)
		return
	}
	defer func() { _ = f.Close() }()
	if _, err := f.WriteString(line + "\n"); err != nil {
		t.Error(err)
	}
}

var logRotations = map[string]func(t *testing.T, path string){
	"rename+create": func(t *testing.T, path string) {
		if err := os.Rename(path, path+".1"); err != nil {
			t.Error(err)
		}
	},
	// logrotate's copytruncate; the writer is paused around it, since
	// lines written between the copy and the truncation are lost by
	// copytruncate itself (logrotate(8) says so), not by the reader.
	"copytruncate": func(t *testing.T, path string) {
		data, err := os.ReadFile(path)
		if err == nil {
			err = os.WriteFile(path+".1", data, 0o644)
		}
		if err == nil {
			err = os.Truncate(path, 0)
		}
		if err != nil {
			t.Error(err)
		}
	},
}

// TestE2ELogsFollowRotation: `ctl logs FILE -f -n 0 -o json` while 2000
// lines are written at ~1000 lines/s with a rotation in the middle prints
// every line once, in order.
func TestE2ELogsFollowRotation(t *testing.T) {
	skipUnlessLinux(t)
	for name, rotate := range logRotations {
		t.Run(name, func(t *testing.T) {
			p := newTestPKI(t)
			addr, dir := logsAgent(t, p)
			path := filepath.Join(dir, "app.log")
			appendLine(t, path, "before the follow")
			run := startCtl(t, append(p.tlsArgs(), "--host", addr, "logs", path, "-f", "-n", "0", "-o", "json")...)
			stdout, stderr := &run.stdout, &run.stderr
			// -n 0 prints only new lines: write warm-up lines until one shows.
			warm := testutil.NewPacer(10 * time.Millisecond) // pacing the writer, not waiting for a result
			for i := 0; !strings.Contains(stdout.String(), "warm-up"); i++ {
				if i == 1000 {
					t.Fatalf("the follow never printed; stderr %q", stderr.String())
				}
				appendLine(t, path, fmt.Sprintf("warm-up %d", i))
				warm.Wait()
			}
			warm.Stop()
			const n = 2000
			start := time.Now()
			pace := testutil.NewPacer(time.Millisecond) // the writer at up to 1000 lines/s
			defer pace.Stop()
			for i := 0; i < n; i++ {
				pace.Wait()
				if i == n/2 {
					rotate(t, path)
				}
				appendLine(t, path, fmt.Sprintf("line %06d", i))
			}
			rate := float64(n) / time.Since(start).Seconds()
			waitFor(t, stdout, 20*time.Second, "the last line", func(s string) bool { return strings.Contains(s, fmt.Sprintf("line %06d", n-1)) })
			run.stop(t, "logs -f")
			var got []string
			for _, l := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
				var v logEntryView
				if err := json.Unmarshal([]byte(l), &v); err != nil {
					t.Fatalf("not one JSON object per line: %q: %v", l, err)
				}
				if v.Source != path || v.Cursor == "" || v.Time == "" {
					t.Fatalf("entry lacks source, cursor or time: %s", l)
				}
				if strings.HasPrefix(v.Message, "line ") {
					got = append(got, v.Message)
				}
			}
			for i := 0; i < n && i < len(got); i++ {
				if want := fmt.Sprintf("line %06d", i); got[i] != want {
					t.Fatalf("line %d = %q, want %q (lost, duplicated or reordered)", i, got[i], want)
				}
			}
			if len(got) != n {
				t.Fatalf("printed %d/%d lines", len(got), n)
			}
			t.Logf("%s: %d/%d lines once each, in order; written at %.0f lines/s", name, len(got), n, rate)
		})
	}
}

func TestE2ELogsRefusals(t *testing.T) {
	skipUnlessLinux(t)
	p := newTestPKI(t)
	addr, dir := logsAgent(t, p)
	appendLine(t, filepath.Join(dir, "x.log"), "one")
	appendLine(t, filepath.Join(dir, "x.log"), "two")
	cases := []struct {
		name   string
		args   []string
		code   int
		stdout string
		inErr  string
	}{
		{"shadow", []string{"logs", "/etc/shadow"}, exitAuth, "", "allow-list (" + dir + "/**)"},
		{"passwd", []string{"logs", "/etc/passwd"}, exitAuth, "", "not on the agent's logs allow-list"},
		{"read", []string{"logs", filepath.Join(dir, "x.log"), "-n", "1"}, exitOK, "two\n", ""},
		{"grep", []string{"logs", filepath.Join(dir, "x.log"), "--grep", "^o"}, exitOK, "one\n", ""},
		{"bad pattern", []string{"logs", filepath.Join(dir, "x.log"), "--grep", "("}, exitUsage, "", "invalid pattern"},
		{"two sources", []string{"logs", filepath.Join(dir, "x.log"), "--unit", "x"}, exitUsage, "", "exactly one source"},
		{"since on a file", []string{"logs", filepath.Join(dir, "x.log"), "--since", "1h"}, exitUsage, "", "no timestamps"},
		{"missing", []string{"logs", filepath.Join(dir, "nope.log")}, exitNotFound, "", "not found"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runCtl(ctxTimeout(t, 20*time.Second), t, nil, append(append(p.tlsArgs(), "--host", addr), c.args...)...)
			if r.code != c.code || r.stdout != c.stdout || !strings.Contains(r.stderr, c.inErr) {
				t.Fatalf("exit %d stdout %q stderr %q; want %d %q containing %q", r.code, r.stdout, r.stderr, c.code, c.stdout, c.inErr)
			}
		})
	}
}
