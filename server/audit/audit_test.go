package audit

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWriteJSONLine(t *testing.T) {
	var buf bytes.Buffer
	s := NewSink(&buf, "buf", nil)
	err := s.Write(Record{Event: EventResult, Identity: "CN=alice", Peer: "127.0.0.1:5", Method: "/m", Target: "nginx.service",
		Outcome: "OK", Duration: 1500 * time.Microsecond, StateBefore: "running", StateAfter: "stopped"})
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("not one JSON object: %q: %v", buf.String(), err)
	}
	for k, want := range map[string]any{"event": "result", "identity": "CN=alice", "peer": "127.0.0.1:5", "method": "/m",
		"target": "nginx.service", "outcome": "OK", "duration_ms": 1.5, "state_before": "running", "state_after": "stopped"} {
		if got[k] != want {
			t.Errorf("%s = %v, want %v", k, got[k], want)
		}
	}
	if _, ok := got["time"]; !ok {
		t.Error("no time field")
	}
	if strings.Count(buf.String(), "\n") != 1 {
		t.Errorf("want exactly one line, got %q", buf.String())
	}
}

func TestWriteFailureIsReported(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("/dev/full not available")
	}
	s, err := Open("/dev/full")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	if err := s.Write(Record{Event: EventIntent}); err == nil {
		t.Fatal("write to /dev/full succeeded; want an error")
	}
}

func TestOpenFileAppendsWithPrivateMode(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sub", "audit.log")
	for range 2 {
		s, err := Open(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Write(Record{Event: EventDenied, Outcome: "PermissionDenied"}); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(data), "\n"); n != 2 {
		t.Fatalf("%d lines after two opens, want 2 (append)", n)
	}
	fi, _ := os.Stat(p)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	if _, err := Open(""); err == nil {
		t.Error("Open(\"\") succeeded")
	}
}
