package logs

import "time"

// rotateGrace is how long a file rotated away by rename is still read
// after it last grew. Between logrotate's rename and the application
// reopening its log (postrotate's SIGHUP, or the next write of a logger
// that reopens), lines still go to the renamed file; Filebeat keeps such
// files open the same way (close_inactive).
const rotateGrace = 5 * time.Second

// Cursors of lines from a retired file name that file; a follow resumed
// from one reads the rest of it and then the path's current file from its
// start, so lines of the new file already delivered before the disconnect
// come again (a duplicate, never a loss).
//
// retire hands the current file to a draining tailer that keeps reading it
// (its unterminated last line included) until it has been idle for
// rotateGrace.
func (t *tailer) retire() {
	old := &tailer{path: t.path, policy: t.policy, lim: t.lim, now: t.now, f: t.f, id: t.id, off: t.off, lineOff: t.lineOff,
		head: t.head, pending: t.pending, cut: t.cut, buf: make([]byte, 16<<10), grown: t.now()}
	t.retired = append(t.retired, old)
	t.f, t.head, t.pending, t.cut, t.curPfx = nil, nil, nil, false, ""
}

// drainRetired reads the retired files first (their lines are older than
// the new file's), closing those idle for rotateGrace.
func (t *tailer) drainRetired(out []Entry, limit int) ([]Entry, bool) {
	more := false
	keep := t.retired[:0]
	for _, o := range t.retired {
		n := len(out)
		var eof bool
		var err error
		out, eof, err = o.read(out, limit)
		if len(out) > n {
			o.grown = t.now()
		}
		more = more || !eof && err == nil
		if err != nil || t.now().Sub(o.grown) > rotateGrace {
			o.flush(&out)
			o.close()
			continue
		}
		keep = append(keep, o)
	}
	t.retired = keep
	return out, more
}
