package logs

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"time"

	"github.com/remotectl/remotectl/internal/errdefs"
)

// fileStream follows one path or glob: a tailer per file, woken by one
// notifier. Files that appear later under a glob are picked up from their
// first line.
type fileStream struct {
	pattern string
	policy  *Policy
	lim     Limits
	m       *matcher
	now     func() time.Time

	tailers []*tailer
	known   map[string]bool
	n       *notifier
	backlog []Entry
	rescan  bool
	next    int // tailer to read first (round robin under load)
}

func followFiles(clean string, p *Policy, lim Limits, m *matcher, req FollowRequest, now func() time.Time) (_ *fileStream, err error) {
	s := &fileStream{pattern: clean, policy: p, lim: lim, m: m, now: now, known: map[string]bool{}, n: newNotifier()}
	defer func() {
		if err != nil {
			_ = s.Close()
		}
	}()
	var cur fileCursor
	if req.Cursor != "" {
		if cur, err = parseFileCursor(req.Cursor); err != nil {
			return nil, err
		}
		if ok, _ := filepath.Match(clean, cur.path); cur.path != clean && !ok {
			return nil, fmt.Errorf("%w: the cursor belongs to %s, not to %s", errdefs.ErrInvalidArgument, cur.path, clean)
		}
	}
	files, err := p.expand(clean)
	if errors.Is(err, errdefs.ErrNotFound) && !isGlob(clean) {
		files, err = []string{clean}, nil // follow waits for the file to appear
	}
	if err != nil {
		return nil, err
	}
	if !isGlob(clean) || !isGlob(filepath.Dir(clean)) {
		s.n.watch(filepath.Dir(clean))
	}
	for _, f := range files {
		t := s.add(f)
		switch {
		case req.Cursor != "" && f == cur.path:
			err = t.resume(cur)
		case req.Cursor == "" && req.Lines > 0:
			err = s.startWithBacklog(t, req.Lines)
		default:
			err = t.open(math.MaxInt64) // only what is written from now on
		}
		if err != nil && !errors.Is(err, errdefs.ErrNotFound) {
			return nil, err
		}
	}
	return s, nil
}

func (s *fileStream) add(path string) *tailer {
	t := newTailer(path, s.policy, s.lim, s.now)
	s.tailers = append(s.tailers, t)
	s.known[path] = true
	s.n.watch(filepath.Dir(path))
	return t
}

// startWithBacklog queues the file's last n lines and continues after them.
func (s *fileStream) startWithBacklog(t *tailer, n int) error {
	es, cursor, err := readFile(t.path, s.policy, s.lim, s.m, n, false, s.now)
	if err != nil {
		return err
	}
	s.backlog = append(s.backlog, es...)
	c, err := parseFileCursor(cursor)
	if err != nil {
		return err
	}
	return t.resume(c)
}

// Next returns the next batch of entries, waiting for writes.
func (s *fileStream) Next(ctx context.Context) ([]Entry, error) {
	if len(s.backlog) > 0 {
		b := s.backlog
		s.backlog = nil
		return b, nil
	}
	for {
		if s.rescan && isGlob(s.pattern) {
			s.expandAgain()
		}
		s.rescan = false
		out, more, err := s.pollAll()
		if err != nil {
			return nil, err
		}
		if out = s.m.apply(out); len(out) > 0 {
			return out, nil
		}
		if more {
			continue
		}
		if s.rescan, err = s.n.wait(ctx); err != nil {
			return nil, err
		}
	}
}

// pollAll reads every tailer once, starting with a different one each
// time so a busy file cannot starve the others.
func (s *fileStream) pollAll() (out []Entry, more bool, err error) {
	n := len(s.tailers)
	for i := 0; i < n; i++ {
		t := s.tailers[(s.next+i)%n]
		var m bool
		out, m, err = t.poll(out, s.lim.BatchLines)
		if err != nil {
			if n == 1 {
				return out, false, err
			}
			continue // one refused or vanished file does not end a glob follow
		}
		more = more || m
		if len(out) >= s.lim.BatchLines {
			more = true
			break
		}
	}
	s.next++
	return out, more, nil
}

func (s *fileStream) expandAgain() {
	files, err := s.policy.expand(s.pattern)
	if err != nil {
		return
	}
	for _, f := range files {
		if !s.known[f] {
			_ = s.add(f).open(0) // new file: from its first line
		}
	}
	slices.SortFunc(s.tailers, func(a, b *tailer) int {
		if a.path < b.path {
			return -1
		}
		return 1
	})
}

// Close releases the files and the watcher.
func (s *fileStream) Close() error {
	for _, t := range s.tailers {
		t.closeAll()
	}
	s.n.close()
	return nil
}
