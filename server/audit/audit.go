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
	// EventSuppressed counts the records a Sampler held back for one key
	// (a source address, an identity) during one interval.
	EventSuppressed = "suppressed"
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
	// SideEffects says what else a change stops, restarts or starts.
	SideEffects string
	// Count is the number of events a suppressed record stands for.
	Count int
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
	path   string // the file, for Reopen; "" for other writers
}

// errWriter remembers the last write error, which zerolog itself swallows.
type errWriter struct {
	w   io.Writer
	err error
}

// truncater is a file whose torn tail can be cut off.
type truncater interface {
	Stat() (os.FileInfo, error)
	Truncate(size int64) error
}

// Write writes one whole record or, when the file takes only part of it
// (ENOSPC), cuts the part off again: readers never see a torn line.
func (e *errWriter) Write(p []byte) (int, error) {
	t, canCut := e.w.(truncater)
	var size int64 = -1
	if canCut {
		if fi, err := t.Stat(); err == nil {
			size = fi.Size()
		}
	}
	n, err := e.w.Write(p)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	if err != nil {
		e.err = err
		if n > 0 && size >= 0 {
			if terr := t.Truncate(size); terr != nil {
				e.err = fmt.Errorf("%w (and cutting the partial record off failed: %w)", err, terr)
			}
		}
	}
	return n, err
}

// Open opens the sink at path: "-" is stderr, anything else a file opened
// for append (created 0600, parent directory 0700 if missing). The file is
// opened without following a symbolic link (a planted link must not make
// the agent append to another file) and must be a regular file that only
// its owner may write.
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
	f, err := openAppend(path)
	if err != nil {
		return nil, err
	}
	s := NewSink(f, path, f)
	s.path = path
	return s, nil
}

// Reopen closes the file and opens path again (logrotate's "create" mode:
// ctld reopens on SIGHUP). Records keep going to the old file when the new
// one cannot be opened. A sink that is not a file does nothing.
func (s *Sink) Reopen() error {
	if s == nil || s.path == "" {
		return nil
	}
	f, err := openAppend(s.path)
	if err != nil {
		return err
	}
	s.mu.Lock()
	old := s.closer
	s.ew.w, s.closer = f, f
	s.mu.Unlock()
	if old != nil {
		return old.Close()
	}
	return nil
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
	opt("side_effects", r.SideEffects)
	opt("message", r.Message)
	opt("process_name", r.ProcessName)
	opt("process_user", r.ProcessUser)
	opt("process_args", r.ProcessArgs)
	if !r.ProcessStart.IsZero() {
		ev = ev.Time("process_start", r.ProcessStart.UTC())
	}
	if r.Count > 0 {
		ev = ev.Int("count", r.Count)
	}
	if r.Event != EventIntent && r.Event != EventSuppressed {
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

// WriteTallies writes one EventSuppressed record per tally of method's
// sampler; keyField says what the key is ("peer" or "identity").
func (s *Sink) WriteTallies(method, keyField string, tallies []Tally) error {
	var first error
	for _, t := range tallies {
		r := Record{Event: EventSuppressed, Method: method, Outcome: "Suppressed", Count: t.Suppressed,
			Message: fmt.Sprintf("%d more records of this kind since %s were counted, not written one by one", t.Suppressed, t.Since.UTC().Format(time.RFC3339))}
		if keyField == "identity" {
			r.Identity = t.Key
		} else {
			r.Peer = t.Key
		}
		if err := s.Write(r); err != nil && first == nil {
			first = err
		}
	}
	return first
}
