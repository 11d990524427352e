package logs

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/remotectl/remotectl/internal/errdefs"
)

func TestMatchList(t *testing.T) {
	list := []string{"/var/log/**", "/srv/app/*.log", "journal:nginx*", "eventlog:Application"}
	cases := []struct {
		key  string
		want bool
	}{
		{"/var/log/syslog", true},
		{"/var/log/nginx/access.log", true},
		{"/var/logs/x", false},
		{"/srv/app/a.log", true},
		{"/srv/app/sub/a.log", false},
		{"journal:nginx.service", true},
		{"journal:nginx", true},
		{"journal:sshd.service", false},
		{"journal", false}, // the whole journal needs the entry "journal"
		{"eventlog:application", true},
		{"eventlog:Security", false},
	}
	for _, c := range cases {
		if _, got := MatchList(list, c.key); got != c.want {
			t.Errorf("MatchList(%s) = %v, want %v", c.key, got, c.want)
		}
	}
	if _, ok := MatchList([]string{"journal"}, "journal:anything.service"); !ok {
		t.Error(`"journal" must grant every unit`)
	}
}

func TestValidateAllowList(t *testing.T) {
	for _, bad := range [][]string{{""}, {"var/log/*"}, {"journal:"}, {"eventlog:["}, {"/var/log/["}, {"http://x"}} {
		if err := ValidateAllowList("logs.allow", bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if err := ValidateAllowList("logs.allow", append(DefaultAllow(), "journal:a*", "eventlog:System", "C:/logs/**")); err != nil {
		t.Error(err)
	}
}

// TestPolicyRefusals: every way around the allow-list is refused with
// PERMISSION_DENIED (or INVALID_ARGUMENT for malformed paths).
func TestPolicyRefusals(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symlinks need a privilege on Windows; the path rules are tested on Linux")
	}
	dir := testDir(t)
	allowed := filepath.Join(dir, "allowed")
	secret := filepath.Join(dir, "secret")
	for _, d := range []string{allowed, secret} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	appendFile(t, filepath.Join(allowed, "ok.log"), "ok\n")
	appendFile(t, filepath.Join(secret, "s.log"), "s\n")
	appendFile(t, filepath.Join(allowed, "server.key"), "k\n")
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Symlink(filepath.Join(secret, "s.log"), filepath.Join(allowed, "link.log")))
	must(os.Symlink("/etc/shadow", filepath.Join(allowed, "shadow.log")))
	l, err := New(Config{Allow: []string{allowed + "/**"}})
	must(err)
	cases := []struct {
		path string
		want error
	}{
		{filepath.Join(allowed, "ok.log"), nil},
		{filepath.Join(allowed, "link.log"), errdefs.ErrPermissionDenied},
		{filepath.Join(allowed, "shadow.log"), errdefs.ErrPermissionDenied},
		{filepath.Join(allowed, "server.key"), errdefs.ErrPermissionDenied},
		{allowed + "/../secret/s.log", errdefs.ErrPermissionDenied},
		{"/etc/shadow", errdefs.ErrPermissionDenied},
		{"/proc/1/environ", errdefs.ErrPermissionDenied},
		{"relative.log", errdefs.ErrInvalidArgument},
		{"/a\x00b", errdefs.ErrInvalidArgument},
		{filepath.Join(allowed, "missing.log"), errdefs.ErrNotFound},
	}
	for _, c := range cases {
		_, _, err := l.Read(t.Context(), ReadRequest{Source: Source{Kind: KindFile, Path: c.path}})
		if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("Read(%q) = %v, want %v", c.path, err, c.want)
		}
	}
	// A per-role list narrows the agent's.
	_, _, err = l.Read(t.Context(), ReadRequest{Source: Source{Kind: KindFile, Path: filepath.Join(allowed, "ok.log")},
		Roles: map[string][]string{"operator": {"/nowhere/*"}}})
	if !errors.Is(err, errdefs.ErrPermissionDenied) || !strings.Contains(err.Error(), "operator: /nowhere/*") {
		t.Errorf("role list not applied: %v", err)
	}
	// A glob skips what it may not read.
	es, _, err := l.Read(t.Context(), ReadRequest{Source: Source{Kind: KindFile, Path: allowed + "/*"}})
	if err != nil || len(es) != 1 || es[0].Message != "ok" {
		t.Errorf("glob read = %v, %v; want only ok.log's line", es, err)
	}
}

// TestRotationRechecksPolicy: a rotation that puts a symlink to a secret
// file at the followed path ends the follow instead of serving it.
func TestRotationRechecksPolicy(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symlinks need a privilege on Windows; the path rules are tested on Linux")
	}
	dir := testDir(t)
	path := filepath.Join(dir, "app.log")
	appendFile(t, path, "")
	secret := filepath.Join(testDir(t), "secret.log")
	appendFile(t, secret, "secret\n")
	l := newTestLogs(t, dir, Limits{})
	ctx := t.Context()
	s, err := l.Follow(ctx, FollowRequest{Source: Source{Kind: KindFile, Path: path}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	appendFile(t, path, "before\n")
	if got := collect(ctx, t, s, 1); got[0].Message != "before" {
		t.Fatalf("got %q", got[0].Message)
	}
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secret, path); err != nil {
		t.Fatal(err)
	}
	es, err := s.Next(ctx)
	if !errors.Is(err, errdefs.ErrPermissionDenied) {
		t.Fatalf("after the swap: %v, %v; want permission denied", es, err)
	}
}

func TestCursorRoundTrip(t *testing.T) {
	c := fileCursor{id: fileID{dev: 0xfe00, ino: 42}, headLen: 17, headSum: 0xdeadbeef, off: 1234, path: "/var/log/a:b.log"}
	got, err := parseFileCursor(c.String())
	if err != nil || got != c {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	for _, bad := range []string{"", "f1:", "f1:x:1:0:0:0:/p", "f1:1:1:999:0:0:/p", "f1:1:1:0:0:-5:/p", "f1:1:1:0:0:0:", "j1:abc"} {
		if _, err := parseFileCursor(bad); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("parseFileCursor(%q) = %v", bad, err)
		}
	}
}

func TestParseJournalLine(t *testing.T) {
	line := `{"__CURSOR":"s=1;i=2","__REALTIME_TIMESTAMP":"1700000000123456","MESSAGE":"hello","_SYSTEMD_UNIT":"nginx.service","_PID":"42","PRIORITY":"3","SYSLOG_IDENTIFIER":"nginx"}`
	e, err := parseJournalLine([]byte(line), "journal:nginx", 1024)
	if err != nil {
		t.Fatal(err)
	}
	want := Entry{Time: time.UnixMicro(1700000000123456), Source: "journal:nginx", Message: "hello", Unit: "nginx.service",
		Provider: "nginx", PID: 42, Priority: PriorityErr, Cursor: "j1:s=1;i=2"}
	if e != want {
		t.Fatalf("got %+v\nwant %+v", e, want)
	}
	// Binary messages come as byte arrays; invalid UTF-8 is flagged.
	e, err = parseJournalLine([]byte(`{"__CURSOR":"c","MESSAGE":[104,105,255]}`), "journal", 1024)
	if err != nil || e.Message != "hi\uFFFD" || !e.InvalidUTF8 {
		t.Fatalf("binary message: %+v, %v", e, err)
	}
	e, _ = parseJournalLine([]byte(`{"__CURSOR":"c","MESSAGE":"abcdef"}`), "journal", 3)
	if e.Message != "abc" || !e.Truncated {
		t.Fatalf("long message: %+v", e)
	}
}

func TestJournalArgs(t *testing.T) {
	since := time.Unix(1700000000, 0)
	cases := []struct {
		name string
		got  []string
		want string
	}{
		{"read", journalArgs("", "nginx", PriorityWarning, since, 10, false, ""),
			"--output=json --no-pager --quiet --all --unit=nginx --priority=4 --since=@1700000000 --lines=10"},
		{"follow new", journalArgs("/d", "", 0, time.Time{}, 0, true, ""),
			"--output=json --no-pager --quiet --all --directory=/d --lines=0 --follow"},
		{"resume", journalArgs("", "-x", 0, since, 5, true, "s=1"),
			"--output=json --no-pager --quiet --all --unit=-x --after-cursor=s=1 --follow"},
	}
	for _, c := range cases {
		if got := strings.Join(c.got, " "); got != c.want {
			t.Errorf("%s: %s\nwant %s", c.name, got, c.want)
		}
	}
	if validUnit("-evil") == nil || validUnit("a b") == nil || validUnit("nginx.service") != nil {
		t.Error("validUnit")
	}
}

// TestNonRegularFilesRefused: a FIFO planted in an allowed directory must
// neither block the agent nor be served.
func TestNonRegularFilesRefused(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no FIFOs on Windows")
	}
	dir := testDir(t)
	fifo := filepath.Join(dir, "trap.log")
	if err := mkfifo(fifo); err != nil {
		t.Skip(err)
	}
	l := newTestLogs(t, dir, Limits{})
	done := make(chan error, 1)
	go func() {
		_, _, err := l.Read(t.Context(), ReadRequest{Source: Source{Kind: KindFile, Path: fifo}})
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.Contains(err.Error(), "not a regular file") {
			t.Fatalf("Read(fifo) = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Read of a FIFO blocked")
	}
}
