// Package logs reads and follows logs on the agent's host: files (through
// rename-and-create and copytruncate rotation), the systemd journal (a
// journalctl subprocess) and the Windows Event Log (wevtapi). It is domain
// code: plain types, no gRPC or proto; the server package adapts it.
//
// Every source passes the agent's allow-list (Policy) before anything is
// opened, and files are re-checked after each rotation, on the path the
// symlinks resolve to.
package logs

import (
	"context"
	"fmt"
	"time"

	"github.com/remotectl/remotectl/internal/defaults"
	"github.com/remotectl/remotectl/internal/errdefs"
)

// Kind is the kind of a log source.
type Kind int

// The source kinds.
const (
	KindFile Kind = iota + 1
	KindJournal
	KindEventLog
	// KindService is "the logs of service X", resolved per platform to a
	// journal unit or Event Log provider.
	KindService
)

// Source names what to read.
type Source struct {
	Kind Kind
	// Path is an absolute file path or glob (KindFile).
	Path string
	// Unit is a journald unit; empty is the whole journal (KindJournal).
	Unit string
	// Channel, Provider and XPath select Event Log records (KindEventLog).
	Channel, Provider, XPath string
	// Service is a service name (KindService).
	Service string
}

// Priority is the syslog severity plus one, so the zero value means
// "unknown / no filter" (the proto enum's numbering).
type Priority int

// Priorities.
const (
	PriorityUnspecified Priority = iota
	PriorityEmerg
	PriorityAlert
	PriorityCrit
	PriorityErr
	PriorityWarning
	PriorityNotice
	PriorityInfo
	PriorityDebug
)

// PriorityNames are the spellings the CLI and docs use, by priority.
var PriorityNames = map[Priority]string{
	PriorityEmerg: "emerg", PriorityAlert: "alert", PriorityCrit: "crit", PriorityErr: "err",
	PriorityWarning: "warning", PriorityNotice: "notice", PriorityInfo: "info", PriorityDebug: "debug",
}

// String is the priority's name ("" when unspecified).
func (p Priority) String() string { return PriorityNames[p] }

// ParsePriority accepts a name (err, warning, ...) or a syslog number 0-7.
func ParsePriority(s string) (Priority, bool) {
	for p, n := range PriorityNames {
		if n == s {
			return p, true
		}
	}
	if len(s) == 1 && s[0] >= '0' && s[0] <= '7' {
		return Priority(s[0]-'0') + 1, true
	}
	return 0, false
}

// Entry is one line or record.
type Entry struct {
	Time        time.Time
	Source      string
	Message     string
	Unit        string
	Provider    string
	PID         int32
	EventID     uint32
	Priority    Priority
	Cursor      string
	Truncated   bool
	InvalidUTF8 bool
}

// ReadRequest asks for existing entries.
type ReadRequest struct {
	Source Source
	Filter Filter
	// Lines is how many of the last entries to return (0: DefaultReadLines).
	Lines int
	// Since keeps entries at or after this time (not for files).
	Since time.Time
	// Roles are the caller's per-role allow-lists (role -> list); nil
	// means only the agent's list applies.
	Roles map[string][]string
}

// FollowRequest opens a follow stream.
type FollowRequest struct {
	Source Source
	Filter Filter
	// Lines existing entries are sent first (0: none).
	Lines int
	Since time.Time
	// Cursor, when set, resumes right after that entry; Lines and Since are
	// then ignored.
	Cursor string
	// Roles: as in ReadRequest.
	Roles map[string][]string
}

// Stream is an open follow. Next blocks until entries are ready or ctx
// ends; it is not safe for concurrent use.
type Stream interface {
	Next(ctx context.Context) ([]Entry, error)
	Close() error
}

// Reader is the log backend the API adapter calls.
type Reader interface {
	Read(ctx context.Context, req ReadRequest) (entries []Entry, cursor string, err error)
	Follow(ctx context.Context, req FollowRequest) (Stream, error)
	// Key returns the normalized name of a source, as the allow-lists and
	// the audit trail see it (a file's resolved path, "journal:UNIT",
	// "eventlog:CHANNEL"), after validating it.
	Key(src Source) (string, error)
}

// Limits bound what one stream may cost the agent.
type Limits struct {
	// MaxLineBytes cuts longer lines (Entry.Truncated).
	MaxLineBytes int
	// MaxReadLines caps ReadRequest.Lines and FollowRequest.Lines.
	MaxReadLines int
	// LinesPerSecond throttles one follow stream (the file is the buffer:
	// nothing is dropped, the stream just lags).
	LinesPerSecond int
	// BatchLines caps the entries of one Next.
	BatchLines int
}

// DefaultLimits are what zero fields take.
var DefaultLimits = Limits{
	MaxLineBytes:   64 << 10,
	MaxReadLines:   10000,
	LinesPerSecond: 200000,
	BatchLines:     1024,
}

// DefaultReadLines is how many entries a read returns when the caller
// names no number.
const DefaultReadLines = 10

// Bounds of the request itself, the same on every agent.
const (
	// MaxPatterns and MaxPatternLen bound the filter a caller may send.
	MaxPatterns   = 16
	MaxPatternLen = 1024
	// MaxSourceLen bounds paths, units and channels.
	MaxSourceLen = 4096
)

// WithDefaults fills zero fields from DefaultLimits.
func (l Limits) WithDefaults() Limits {
	defaults.FillAll(&l, DefaultLimits)
	return l
}

func (l Limits) lines(n int) (int, error) {
	if n < 0 {
		return 0, fmt.Errorf("%w: lines must not be negative", errdefs.ErrInvalidArgument)
	}
	if n > l.MaxReadLines {
		return 0, fmt.Errorf("%w: %d lines asked, the agent's limit is %d", errdefs.ErrInvalidArgument, n, l.MaxReadLines)
	}
	return n, nil
}
