package logs

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"syscall"

	"github.com/remotectl/remotectl/internal/errdefs"
)

// maxJournalScan bounds how many entries a filtered read asks journalctl
// for, to find the last n matching ones.
const maxJournalScan = 100000

// journalctl is looked up once per call (the package may be installed
// after the agent started).
func journalctl() (string, error) {
	p, err := exec.LookPath("journalctl")
	if err != nil {
		return "", fmt.Errorf("%w: journalctl not found: the journal cannot be read on this host", errdefs.ErrUnavailable)
	}
	return p, nil
}

func journalCmd(ctx context.Context, args []string) (*exec.Cmd, *bytes.Buffer, error) {
	bin, err := journalctl()
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", "SYSTEMD_PAGER=", "SYSTEMD_COLORS=0"}
	var stderr bytes.Buffer
	cmd.Stderr = &limitedBuffer{b: &stderr, max: 4096}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlive the agent
	return cmd, &stderr, nil
}

// limitedBuffer keeps the first max bytes of journalctl's stderr.
type limitedBuffer struct {
	b   *bytes.Buffer
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - l.b.Len(); room > 0 {
		l.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func journalFailed(err error, stderr *bytes.Buffer) error {
	msg := strings.TrimSpace(stderr.String())
	if msg == "" {
		msg = err.Error()
	}
	return fmt.Errorf("%w: journalctl: %s", errdefs.ErrUnavailable, msg)
}

// readJournal runs journalctl once and returns the last n matching entries.
func readJournal(ctx context.Context, dir, unit string, m *matcher, n int, req ReadRequest, lim Limits) ([]Entry, string, error) {
	ask := n
	if len(m.include) > 0 || len(m.exclude) > 0 {
		ask = maxJournalScan
	}
	cmd, stderr, err := journalCmd(ctx, journalArgs(dir, unit, m.max, req.Since, ask, false, ""))
	if err != nil {
		return nil, "", err
	}
	out, err := cmd.Output()
	if err != nil {
		return nil, "", journalFailed(err, stderr)
	}
	var es []Entry
	cursor := ""
	for _, line := range bytes.Split(out, []byte{'\n'}) {
		if len(line) == 0 {
			continue
		}
		e, err := parseJournalLine(line, journalSource(unit), lim.MaxLineBytes)
		if err != nil {
			return nil, "", fmt.Errorf("%w: %w", errdefs.ErrInternal, err)
		}
		cursor = e.Cursor
		if m.keep(&e) {
			es = append(es, e)
		}
	}
	if len(es) > n {
		es = es[len(es)-n:]
	}
	return es, cursor, nil
}

// journalStream follows `journalctl --follow`; a goroutine parses its
// output into a channel that Next batches from.
type journalStream struct {
	cmd     *exec.Cmd
	cancel  context.CancelFunc
	entries chan Entry
	done    chan struct{}
	err     error // set before done closes
	m       *matcher
	batch   int
	once    sync.Once
}

func followJournal(dir, unit string, m *matcher, req FollowRequest, lim Limits) (Stream, error) {
	cursor := strings.TrimPrefix(req.Cursor, journalCursorPrefix)
	ctx, cancel := context.WithCancel(context.Background())
	cmd, stderr, err := journalCmd(ctx, journalArgs(dir, unit, m.max, req.Since, req.Lines, true, cursor))
	if err != nil {
		cancel()
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err == nil {
		err = cmd.Start()
	}
	if err != nil {
		cancel()
		return nil, fmt.Errorf("%w: start journalctl: %w", errdefs.ErrUnavailable, err)
	}
	s := &journalStream{cmd: cmd, cancel: cancel, entries: make(chan Entry, 4096), done: make(chan struct{}), m: m, batch: lim.BatchLines}
	go func() {
		defer close(s.done)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
	scan:
		for sc.Scan() {
			e, err := parseJournalLine(sc.Bytes(), journalSource(unit), lim.MaxLineBytes)
			if err != nil {
				s.err = fmt.Errorf("%w: %w", errdefs.ErrInternal, err)
				cancel()
				break
			}
			select {
			case s.entries <- e:
			case <-ctx.Done():
				break scan
			}
		}
		werr := cmd.Wait()
		if s.err == nil && ctx.Err() == nil {
			s.err = journalFailed(errors.Join(sc.Err(), werr, errors.New("journalctl exited")), stderr)
		}
	}()
	return s, nil
}

func (s *journalStream) Next(ctx context.Context) ([]Entry, error) {
	for {
		var out []Entry
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case e := <-s.entries:
			out = append(out, e)
		case <-s.done:
			select {
			case e := <-s.entries: // drain what was parsed before the end
				out = append(out, e)
			default:
				if s.err == nil {
					return nil, fmt.Errorf("%w: the journal stream was closed", errdefs.ErrUnavailable)
				}
				return nil, s.err
			}
		}
	drain:
		for len(out) < s.batch {
			select {
			case e := <-s.entries:
				out = append(out, e)
			default:
				break drain
			}
		}
		if out = s.m.apply(out); len(out) > 0 {
			return out, nil
		}
	}
}

func (s *journalStream) Close() error {
	s.once.Do(func() {
		s.cancel()
		<-s.done
	})
	return nil
}

// journalSource is how entries of a journal stream name their source.
func journalSource(unit string) string {
	if unit == "" {
		return journalKey
	}
	return journalPfx + unit
}
