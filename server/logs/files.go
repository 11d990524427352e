package logs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/remotectl/remotectl/internal/errdefs"
)

// maxScanBytes bounds how far back a filtered read scans a file for its
// last matching lines.
const maxScanBytes = 32 << 20

// expand lists the files a cleaned path or glob names now, checked
// against the policy; files the policy refuses are skipped (a literal path
// is refused with its reason).
func (p *Policy) expand(clean string) ([]string, error) {
	if !isGlob(clean) {
		if _, err := p.resolve(clean); err != nil {
			return nil, err
		}
		return []string{clean}, nil
	}
	matches, err := filepath.Glob(clean)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errdefs.ErrInvalidArgument, err)
	}
	var out []string
	for _, m := range matches {
		if fi, err := os.Stat(m); err != nil || !fi.Mode().IsRegular() {
			continue
		}
		if _, err := p.resolve(m); err == nil {
			out = append(out, m)
		}
	}
	return out, nil
}

func isGlob(p string) bool { return strings.ContainsAny(p, "*?[") }

func notExist(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %w", errdefs.ErrNotFound, err)
	}
	if errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("%w: %w", errdefs.ErrPermissionDenied, err)
	}
	return err
}

// readFiles returns the last n (matching) lines of each file, and the
// cursor after the last complete line of a single file.
func readFiles(files []string, p *Policy, lim Limits, m *matcher, n int, now func() time.Time) ([]Entry, string, error) {
	var out []Entry
	cursor := ""
	for _, path := range files {
		es, c, err := readFile(path, p, lim, m, n, true, now)
		if err != nil {
			if len(files) > 1 && errors.Is(err, errdefs.ErrNotFound) {
				continue // rotated away between the glob and the open
			}
			return nil, "", err
		}
		out, cursor = append(out, es...), c
	}
	if len(files) != 1 {
		cursor = ""
	}
	return out, cursor, nil
}

// readFile reads one file's last n lines; withPartial adds an
// unterminated last line (which a follow would send again once complete).
func readFile(path string, p *Policy, lim Limits, m *matcher, n int, withPartial bool, now func() time.Time) ([]Entry, string, error) {
	t := newTailer(path, p, lim, now)
	if err := t.open(0); err != nil {
		return nil, "", err
	}
	if t.f == nil {
		return nil, "", notExist(fs.ErrNotExist)
	}
	defer t.close()
	_, size, err := statFile(t.f)
	if err != nil {
		return nil, "", err
	}
	start, err := startOffset(t.f, size, n, m)
	if err != nil {
		return nil, "", err
	}
	if err := t.seek(start); err != nil {
		return nil, "", err
	}
	var ring []Entry
	for {
		batch, eof, err := t.read(nil, lim.BatchLines)
		if err != nil {
			return nil, "", err
		}
		ring = append(ring, m.apply(batch)...)
		if len(ring) > n {
			ring = slices.Delete(ring, 0, len(ring)-n)
		}
		if eof || t.off >= size {
			break
		}
	}
	cursor := t.cursor() // after the last complete line: a follow re-reads a partial one
	var last []Entry
	if withPartial {
		t.flush(&last)
	}
	if last = m.apply(last); len(last) > 0 {
		last[0].Cursor = cursor
		ring = append(ring, last...)
		if len(ring) > n {
			ring = ring[1:]
		}
	}
	return ring, cursor, nil
}

// startOffset is where reading must start to see the last n lines: the
// start of the n-th line from the end without a filter; with one, a bounded
// window whose matching lines are kept in a ring.
func startOffset(f *os.File, size int64, n int, m *matcher) (int64, error) {
	if n == 0 {
		return size, nil
	}
	if len(m.include) > 0 || len(m.exclude) > 0 || m.max != PriorityUnspecified {
		return lineStartAtOrAfter(f, max(0, size-maxScanBytes))
	}
	return lastLinesOffset(f, size, n)
}

// lastLinesOffset scans backwards for the start of the last n lines (an
// unterminated last line counts as one).
func lastLinesOffset(f *os.File, size int64, n int) (int64, error) {
	buf := make([]byte, 64<<10)
	end := size
	if end > 0 {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, end-1); err != nil {
			return 0, err
		}
		if last[0] == '\n' {
			end-- // the final newline ends the last line, it does not start one
		}
	}
	for pos := end; pos > 0; {
		k := min(int64(len(buf)), pos)
		pos -= k
		if _, err := f.ReadAt(buf[:k], pos); err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		for i := k - 1; i >= 0; i-- {
			if buf[i] == '\n' {
				if n--; n == 0 {
					return pos + i + 1, nil
				}
			}
		}
	}
	return 0, nil
}

// lineStartAtOrAfter returns the first line boundary at or after off.
func lineStartAtOrAfter(f *os.File, off int64) (int64, error) {
	if off == 0 {
		return 0, nil
	}
	buf := make([]byte, 64<<10)
	for pos := off - 1; ; pos += int64(len(buf)) {
		k, err := f.ReadAt(buf, pos)
		if i := bytes.IndexByte(buf[:k], '\n'); i >= 0 {
			return pos + int64(i) + 1, nil
		}
		if errors.Is(err, io.EOF) {
			return pos + int64(k), nil // no newline after off
		}
		if err != nil {
			return 0, err
		}
	}
}
