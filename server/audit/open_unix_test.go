//go:build !windows

package audit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOpenRefusesPlantedLinkAndLooseFile: a symbolic link planted at the
// audit path must not make the agent append to its target, and a file
// others may write is not trusted (issue 13, finding 7).
func TestOpenRefusesPlantedLinkAndLooseFile(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, []byte("precious\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "audit.log")
	if err := os.Symlink(victim, link); err != nil {
		t.Fatal(err)
	}
	if s, err := Open(link); err == nil {
		_ = s.Write(Record{Event: EventDenied})
		_ = s.Close()
		t.Fatal("opened an audit path that is a symbolic link")
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious\n" {
		t.Fatalf("the link's target was written: %q", b)
	}
	loose := filepath.Join(dir, "loose.log")
	if err := os.WriteFile(loose, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(loose, 0o666); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(loose); err == nil || !strings.Contains(err.Error(), "writable by group or others") {
		t.Fatalf("world-writable audit file: %v, want a refusal", err)
	}
}

// TestReopenFollowsRotation: after logrotate moves the file away, Reopen
// (SIGHUP) makes new records go to a new file at the configured path.
func TestReopenFollowsRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	if err := s.Write(Record{Event: EventIntent}); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Reopen(); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(Record{Event: EventResult}); err != nil {
		t.Fatal(err)
	}
	old, _ := os.ReadFile(path + ".1")
	cur, _ := os.ReadFile(path)
	if strings.Count(string(old), "\n") != 1 || !strings.Contains(string(cur), `"event":"result"`) {
		t.Fatalf("rotated %q, current %q", old, cur)
	}
}
