package logs

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/remotectl/remotectl/internal/errdefs"
)

// The journal is read through `journalctl -o json` rather than
// libsystemd's sd_journal (go-systemd's sdjournal, cgo): sd_journal mmaps
// the journal files and a process reading them can take SIGBUS when
// journald rotates or a file is truncated under it, which would kill the
// agent. Elastic's journalbeat successor (filebeat's journald input),
// OpenTelemetry's journald receiver and Vector all run journalctl for that
// reason; a crash then costs one stream, not the daemon. journalctl's
// cursors (--after-cursor) give exact resume.

// journalArgs builds journalctl's arguments. Values go in --flag=value form
// so that no value is ever read as an option.
func journalArgs(dir, unit string, pr Priority, since time.Time, lines int, follow bool, cursor string) []string {
	args := []string{"--output=json", "--no-pager", "--quiet", "--all"}
	if dir != "" {
		args = append(args, "--directory="+dir)
	}
	if unit != "" {
		args = append(args, "--unit="+unit)
	}
	if pr != PriorityUnspecified {
		args = append(args, "--priority="+strconv.Itoa(int(pr)-1))
	}
	switch {
	case cursor != "":
		args = append(args, "--after-cursor="+cursor)
	default:
		if !since.IsZero() {
			args = append(args, "--since=@"+strconv.FormatInt(since.Unix(), 10))
		}
		if lines >= 0 {
			args = append(args, "--lines="+strconv.Itoa(lines))
		}
	}
	if follow {
		args = append(args, "--follow")
	}
	return args
}

// validUnit checks a unit name before it reaches journalctl.
func validUnit(u string) error {
	switch {
	case len(u) > 256:
		return fmt.Errorf("%w: unit name longer than 256 bytes", errdefs.ErrInvalidArgument)
	case strings.HasPrefix(u, "-"), strings.ContainsAny(u, "/\x00"):
		return fmt.Errorf("%w: unit name %q is malformed", errdefs.ErrInvalidArgument, u)
	}
	for _, r := range u {
		if !unicode.IsPrint(r) || unicode.IsSpace(r) {
			return fmt.Errorf("%w: unit name %q contains %U", errdefs.ErrInvalidArgument, u, r)
		}
	}
	return nil
}

// journalRecord holds the fields of `journalctl -o json` the agent uses.
// Values are strings, or arrays of bytes for binary data, or null.
type journalRecord struct {
	Cursor     string          `json:"__CURSOR"`
	Realtime   string          `json:"__REALTIME_TIMESTAMP"`
	Message    json.RawMessage `json:"MESSAGE"`
	Unit       string          `json:"_SYSTEMD_UNIT"`
	PID        string          `json:"_PID"`
	Priority   string          `json:"PRIORITY"`
	Identifier string          `json:"SYSLOG_IDENTIFIER"`
}

// parseJournalLine converts one JSON line; source names the stream.
func parseJournalLine(line []byte, source string, maxLine int) (Entry, error) {
	var r journalRecord
	if err := json.Unmarshal(line, &r); err != nil {
		return Entry{}, fmt.Errorf("journalctl output: %w", err)
	}
	e := Entry{Source: source, Unit: r.Unit, Provider: r.Identifier, Cursor: journalCursorPrefix + r.Cursor}
	if us, err := strconv.ParseInt(r.Realtime, 10, 64); err == nil {
		e.Time = time.UnixMicro(us)
	}
	if pid, err := strconv.ParseInt(r.PID, 10, 32); err == nil {
		e.PID = int32(pid)
	}
	if p, err := strconv.Atoi(r.Priority); err == nil && p >= 0 && p <= 7 {
		e.Priority = Priority(p + 1)
	}
	var msg string
	if err := json.Unmarshal(r.Message, &msg); err != nil {
		var raw []byte // binary MESSAGE: an array of byte values
		var nums []int
		if json.Unmarshal(r.Message, &nums) == nil {
			for _, n := range nums {
				raw = append(raw, byte(n))
			}
		}
		msg = string(raw)
	}
	if len(msg) > maxLine {
		msg, e.Truncated = msg[:maxLine], true
	}
	if !utf8.ValidString(msg) {
		msg, e.InvalidUTF8 = strings.ToValidUTF8(msg, "\uFFFD"), true
	}
	e.Message = msg
	return e, nil
}
