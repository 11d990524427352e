package logs

import (
	"context"
	"errors"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/windows"

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

// TestEvtUnavailableKinds pins how a failed wevtapi call maps to an errdefs
// kind, including a call that set no last error (Wine's stubs), which the
// generated wrappers report as syscall.EINVAL.
func TestEvtUnavailableKinds(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want error
		text string
	}{
		{"channel not found", windows.ERROR_EVT_CHANNEL_NOT_FOUND, errdefs.ErrNotFound, "event log channel not found"},
		{"access denied", windows.ERROR_ACCESS_DENIED, errdefs.ErrPermissionDenied, "wevtapi EvtQuery"},
		{"no last error", syscall.EINVAL, errdefs.ErrUnavailable, "failed without an error code"},
		{"other errno", windows.ERROR_INVALID_HANDLE, errdefs.ErrUnavailable, "wevtapi EvtQuery: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := evtUnavailable("EvtQuery", tc.err)
			if !errors.Is(got, tc.want) || !strings.Contains(got.Error(), tc.text) {
				t.Fatalf("evtUnavailable(%v) = %v, want %v containing %q", tc.err, got, tc.want, tc.text)
			}
		})
	}
}
