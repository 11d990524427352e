package logs

import (
	"context"
	"errors"
	"testing"

	"github.com/remotectl/remotectl/internal/errdefs"
)

// TestEventLogBackend runs the wevtapi backend against the host's
// Application channel. Under Wine, whose wevtapi is largely unimplemented,
// it proves only that the procs load and that a failing call becomes a
// clean UNAVAILABLE/NOT_FOUND error instead of a crash; on Windows it reads
// real records.
func TestEventLogBackend(t *testing.T) {
	l, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	src := Source{Kind: KindEventLog, Channel: "Application"}
	es, cursor, err := l.Read(context.Background(), ReadRequest{Source: src, Lines: 5})
	switch {
	case err == nil:
		t.Logf("read %d Application records, cursor %q", len(es), cursor)
		for _, e := range es {
			if e.Source != "eventlog:Application" || e.Cursor == "" {
				t.Errorf("record without source or cursor: %+v", e)
			}
		}
	case errors.Is(err, errdefs.ErrUnavailable), errors.Is(err, errdefs.ErrNotFound):
		t.Logf("wevtapi unavailable here (expected under Wine): %v", err)
	default:
		t.Fatalf("unexpected error kind: %v", err)
	}
	// Security is not on the default allow-list.
	_, _, err = l.Read(context.Background(), ReadRequest{Source: Source{Kind: KindEventLog, Channel: "Security"}})
	if !errors.Is(err, errdefs.ErrPermissionDenied) {
		t.Fatalf("Security channel: %v, want permission denied", err)
	}
}
