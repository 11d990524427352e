package logs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/remotectl/remotectl/internal/errdefs"
)

// tailer follows one path through rotation. It reads the open file to its
// end, then compares it with what the path names now:
//   - another file (rename+create, delete+create): the old file is drained
//     to its end, its unterminated last line flushed, then the new file is
//     read from its start (after the allow-list check of its resolved path);
//   - the same file, shorter than what was read or with other first bytes
//     (copytruncate): the lines written before the truncation are read from
//     the copy (a sibling with the same first bytes), then the file from
//     its start;
//   - nothing (renamed, not yet re-created): the old file stays open, its
//     writer may still append.
//
// A line is emitted only when its newline arrives (or its file is left),
// so a cursor always points at a line boundary.
type tailer struct {
	path   string // the cleaned path the writer writes to
	policy *Policy
	lim    Limits
	now    func() time.Time

	f       *os.File // nil while the path does not exist
	id      fileID
	off     int64  // offset after the last byte consumed
	lineOff int64  // offset where the pending line starts (a line boundary)
	head    []byte // the file's first bytes (up to headMax)
	curPfx  string // cursor prefix for the current file and head
	pending []byte // the unterminated line so far (capped)
	cut     bool   // pending exceeded MaxLineBytes
	buf     []byte
	err     error // a sticky failure (re-check refused the new file)

	onCopy  bool      // reading a copytruncate copy: nobody writes to it
	retired []*tailer // files rotated away, still read for rotateGrace
	grown   time.Time // (retired) when the file last grew

	atEOF func() // test hook: between reaching EOF and looking at the path
}

func newTailer(path string, p *Policy, lim Limits, now func() time.Time) *tailer {
	return &tailer{path: path, policy: p, lim: lim, now: now, buf: make([]byte, 64<<10)}
}

// open opens the path (re-checked against the allow-list) at offset off;
// a missing file is not an error: the tailer waits for it.
func (t *tailer) open(off int64) error {
	resolved, err := t.policy.resolve(t.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	f, err := openShared(resolved)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return t.use(f, off)
}

// use makes f the current file, positioned at off.
func (t *tailer) use(f *os.File, off int64) error {
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		_ = f.Close()
		return fmt.Errorf("%w: %s is not a regular file", errdefs.ErrInvalidArgument, f.Name())
	}
	id, size, err := statFile(f)
	if err != nil {
		_ = f.Close()
		return err
	}
	off = min(off, size)
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		_ = f.Close()
		return err
	}
	t.f, t.id, t.off = f, id, off
	if len(t.pending) == 0 && !t.cut {
		t.lineOff = off
	}
	t.head = readHead(f, off)
	t.curPfx = ""
	return nil
}

// readHead reads the first min(off, headMax) bytes: the part of the head
// already consumed (later bytes join it as they are read).
func readHead(f *os.File, off int64) []byte {
	h := make([]byte, min(off, headMax))
	n, _ := f.ReadAt(h, 0)
	return h[:n]
}

// closeAll closes the current and the retired files.
func (t *tailer) closeAll() {
	for _, o := range t.retired {
		o.close()
	}
	t.retired = nil
	t.close()
}

// close closes the current file.
func (t *tailer) close() {
	if t.f != nil {
		_ = t.f.Close()
		t.f = nil
	}
}

// cursor points after the last complete line.
func (t *tailer) cursor() string {
	if t.curPfx == "" {
		t.curPfx = fileCursor{id: t.id, headLen: len(t.head), headSum: headSum(t.head)}.prefix()
	}
	return t.curPfx + strconv.FormatInt(t.lineOff, 10) + ":" + t.path
}

// poll appends up to about max new lines to out; more reports that data
// may remain (max was reached).
func (t *tailer) poll(out []Entry, limit int) (_ []Entry, more bool, err error) {
	if t.err != nil {
		return out, false, t.err
	}
	for i := 0; i < 4; i++ { // a rotation or two per poll, not a loop on a flapping path
		// Retired files first, also right after checkRotation retired one:
		// what was appended to it between our EOF and the rename is older
		// than anything in the new file.
		if len(t.retired) > 0 {
			if out, more = t.drainRetired(out, limit); more {
				return out, true, nil
			}
		}
		if t.f == nil { // not there yet, or gone again right after a rotation
			if err := t.open(0); err != nil || t.f == nil {
				return out, false, err
			}
		}
		var eof bool
		if out, eof, err = t.read(out, limit); err != nil || !eof {
			return out, err == nil, err
		}
		if t.atEOF != nil {
			t.atEOF()
		}
		switched, err := t.checkRotation(&out)
		if err != nil {
			t.err = err
			return out, false, err
		}
		if !switched {
			return out, false, nil
		}
	}
	return out, true, nil
}

// read reads until EOF or until out holds max entries. Bytes are kept only
// if the file still has its head after the read: a file truncated and
// written past our offset before the read (copytruncate while the reader
// lagged) gave us the middle of its new content. Then read stops as at EOF,
// without moving, and checkRotation handles the truncation.
func (t *tailer) read(out []Entry, limit int) ([]Entry, bool, error) {
	for len(out) < limit {
		n, err := t.f.Read(t.buf)
		if n > 0 {
			if !t.headIntact() {
				_, err := t.f.Seek(t.off, io.SeekStart)
				return out, err == nil, err
			}
			out = t.split(t.buf[:n], out)
		}
		if errors.Is(err, io.EOF) || n == 0 && err == nil {
			return out, true, nil
		}
		if err != nil {
			return out, false, err
		}
	}
	return out, false, nil
}

func (t *tailer) split(data []byte, out []Entry) []Entry {
	if len(t.head) < headMax && t.off == int64(len(t.head)) {
		t.head = append(t.head, data[:min(len(data), headMax-len(t.head))]...)
		t.curPfx = ""
	}
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			t.add(data)
			t.off += int64(len(data))
			return out
		}
		t.add(data[:i])
		t.off += int64(i + 1)
		t.lineOff = t.off
		data = data[i+1:]
		out = append(out, t.entry())
	}
	return out
}

// add keeps at most MaxLineBytes of a line.
func (t *tailer) add(b []byte) {
	room := t.lim.MaxLineBytes - len(t.pending)
	if len(b) > room {
		b, t.cut = b[:max(room, 0)], true
	}
	t.pending = append(t.pending, b...)
}

func (t *tailer) entry() Entry {
	line := bytes.TrimSuffix(t.pending, []byte{'\r'})
	e := Entry{Time: t.now(), Source: t.path, Cursor: t.cursor(), Truncated: t.cut}
	if utf8.Valid(line) {
		e.Message = string(line)
	} else {
		e.Message, e.InvalidUTF8 = strings.ToValidUTF8(string(line), "\uFFFD"), true
	}
	t.pending, t.cut = t.pending[:0], false
	return e
}

// flush emits an unterminated last line of a file being left.
func (t *tailer) flush(out *[]Entry) {
	if len(t.pending) > 0 || t.cut {
		t.lineOff = t.off // the file's end ends the line
		*out = append(*out, t.entry())
	}
}

// checkRotation runs at EOF; switched reports that reading should go on
// (another file, or the same from its start).
func (t *tailer) checkRotation(out *[]Entry) (switched bool, err error) {
	id, size, err := statPath(t.path)
	if err != nil {
		return false, nil //nolint:nilerr // renamed away (or unreadable): keep reading the old file
	}
	if id != t.id {
		// Rename+create: this file is read to its end; keep draining it
		// (its writer may not have reopened yet) and go on with the new.
		if t.onCopy {
			t.flush(out)
			t.close()
		} else {
			t.retire()
		}
		t.onCopy = false
		return true, t.open(0)
	}
	if size >= t.off && t.headIntact() {
		return false, nil
	}
	// Truncated in place (copytruncate): finish from the copy, if found.
	if cp := t.findSibling(func(f *os.File, _ fileID, size int64) bool {
		return size >= t.off && bytes.Equal(readHead(f, int64(len(t.head))), t.head)
	}); cp != nil {
		t.close()
		t.onCopy = true
		return true, t.use(cp, t.off)
	}
	t.flush(out)
	_, err = t.f.Seek(0, io.SeekStart)
	t.off, t.lineOff, t.head, t.curPfx = 0, 0, t.head[:0], ""
	return true, err
}

func (t *tailer) headIntact() bool {
	if len(t.head) == 0 {
		return true
	}
	return bytes.Equal(readHead(t.f, int64(len(t.head))), t.head)
}

// compressed rotated files are not log text.
var compressedExt = []string{".gz", ".xz", ".bz2", ".zst", ".lz4", ".zip"}

// findSibling opens the first rotated sibling of the path (same directory,
// a name starting with the path's stem, allowed by the policy) that ok
// accepts.
func (t *tailer) findSibling(ok func(*os.File, fileID, int64) bool) *os.File {
	dir, base := filepath.Split(t.path)
	stem, _, _ := strings.Cut(base, ".")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	for _, de := range entries {
		n := de.Name()
		if n == base || !strings.HasPrefix(n, stem) || !de.Type().IsRegular() || hasAnySuffix(n, compressedExt) {
			continue
		}
		resolved, err := t.policy.resolve(filepath.Join(dir, n))
		if err != nil {
			continue
		}
		f, err := openShared(resolved)
		if err != nil {
			continue
		}
		if id, size, err := statFile(f); err == nil && ok(f, id, size) {
			return f
		}
		_ = f.Close()
	}
	return nil
}

func hasAnySuffix(s string, sfx []string) bool {
	for _, x := range sfx {
		if strings.HasSuffix(s, x) {
			return true
		}
	}
	return false
}

// resume positions the tailer right after cursor c: in the file itself if
// the path still names it, else in the rotated file that carries its
// identity (read to its end before the path's new file), else at the
// start of the path's current file (the position is gone; nothing newer
// is skipped).
func (t *tailer) resume(c fileCursor) error {
	sameHead := func(f *os.File, size int64) bool {
		h := readHead(f, int64(c.headLen))
		return size >= c.off && len(h) == c.headLen && headSum(h) == c.headSum
	}
	match := func(f *os.File, id fileID, size int64) bool { return id == c.id && sameHead(f, size) }
	// A rotated file keeps the identity; a copytruncate copy only the bytes.
	rotated := func(f *os.File, id fileID, size int64) bool { return id == c.id || c.headLen > 0 && sameHead(f, size) }
	if err := t.open(0); err != nil || t.f == nil {
		return err
	}
	id, size, err := statFile(t.f)
	if err != nil {
		return err
	}
	if match(t.f, id, size) {
		return t.seek(c.off)
	}
	if f := t.findSibling(rotated); f != nil {
		t.close()
		return t.use(f, c.off)
	}
	return nil
}

func (t *tailer) seek(off int64) error {
	if _, err := t.f.Seek(off, io.SeekStart); err != nil {
		return err
	}
	t.off, t.lineOff, t.head, t.curPfx = off, off, readHead(t.f, off), ""
	t.pending, t.cut = t.pending[:0], false
	return nil
}
