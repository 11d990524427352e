// Package audit writes the agent's audit trail: one JSON line per
// mutating call and per denial, to a sink separate from the daemon log.
//
// Writes are synchronous and their errors are returned, never dropped:
// the caller of a mutation writes an "intent" record first and refuses to
// act when that fails (fail closed), then writes the "result" record.
package audit

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// Events.
const (
	EventIntent = "intent" // a permitted mutation is about to run
	EventResult = "result" // a mutation finished (any outcome)
	EventDenied = "denied" // authorization, rate limit or stream cap refused a call
)

// Record is one audit entry.
type Record struct {
	Time     time.Time
	Event    string
	Identity string
	Peer     string
	Method   string
	Target   string
	// Outcome is the gRPC status code name, e.g. "OK", "PermissionDenied".
	Outcome    string
	Message    string
	Permission string
	Duration   time.Duration
	// StateBefore and StateAfter are the service state around a change.
	StateBefore string
	StateAfter  string
	// The target of a process-control call, beyond its pid in Target:
	// name, user, argv summary and start time (its identity with the pid).
	ProcessName  string
	ProcessUser  string
	ProcessArgs  string
	ProcessStart time.Time
}

// Sink serialises records to one writer.
type Sink struct {
	mu     sync.Mutex
	ew     *errWriter
	log    zerolog.Logger
	closer io.Closer
	name   string
}

// errWriter remembers the last write error, which zerolog itself swallows.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	n, err := e.w.Write(p)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	if err != nil {
		e.err = err
	}
	return n, err
}

// Open opens the sink at path: "-" is stderr, anything else a file opened
// for append (created 0600, parent directory 0700 if missing).
func Open(path string) (*Sink, error) {
	if path == "" {
		return nil, errors.New("audit: no sink path")
	}
	if path == "-" {
		return NewSink(os.Stderr, "stderr", nil), nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	return NewSink(f, path, f), nil
}

// NewSink writes to w; closer (may be nil) is closed by Close.
func NewSink(w io.Writer, name string, closer io.Closer) *Sink {
	ew := &errWriter{w: w}
	return &Sink{ew: ew, log: zerolog.New(ew), closer: closer, name: name}
}

// Name is the sink's path ("stderr" for "-").
func (s *Sink) Name() string { return s.name }

// Write writes r as one JSON line and reports whether it reached the
// writer. A nil Sink discards (used only by tests of unrelated parts).
func (s *Sink) Write(r Record) error {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ew.err = nil
	if r.Time.IsZero() {
		r.Time = time.Now()
	}
	ev := s.log.Log().Time("time", r.Time.UTC()).Str("event", r.Event).Str("identity", r.Identity).
		Str("peer", r.Peer).Str("method", r.Method).Str("outcome", r.Outcome)
	opt := func(k, v string) {
		if v != "" {
			ev = ev.Str(k, v)
		}
	}
	opt("target", r.Target)
	opt("permission", r.Permission)
	opt("state_before", r.StateBefore)
	opt("state_after", r.StateAfter)
	opt("message", r.Message)
	opt("process_name", r.ProcessName)
	opt("process_user", r.ProcessUser)
	opt("process_args", r.ProcessArgs)
	if !r.ProcessStart.IsZero() {
		ev = ev.Time("process_start", r.ProcessStart.UTC())
	}
	if r.Event != EventIntent {
		ev = ev.Float64("duration_ms", float64(r.Duration.Microseconds())/1000)
	}
	ev.Send()
	if s.ew.err != nil {
		return fmt.Errorf("audit: write to %s: %w", s.name, s.ew.err)
	}
	return nil
}

// Close closes the underlying file, if any.
func (s *Sink) Close() error {
	if s == nil || s.closer == nil {
		return nil
	}
	return s.closer.Close()
}
