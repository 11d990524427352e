package logs

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/remotectl/remotectl/internal/errdefs"
	"github.com/remotectl/remotectl/internal/svcname"
)

// DefaultAllow is the agent's allow-list when none is configured: the
// system log directory and the journal on Unix, the classic channels on
// Windows (Security needs an explicit entry).
func DefaultAllow() []string {
	if runtime.GOOS == "windows" {
		return []string{"eventlog:Application", "eventlog:System", "eventlog:Setup"}
	}
	return []string{"/var/log/**", journalKey}
}

// Config configures Logs.
type Config struct {
	// Allow is the agent's allow-list (nil: DefaultAllow()).
	Allow []string
	// JournalDir makes journalctl read that directory (--directory), e.g.
	// the journal of a container or namespace; empty is the host's.
	JournalDir string
	Limits     Limits
	// Now stamps file lines (tests inject a clock); nil is time.Now.
	Now func() time.Time
}

// Logs is the Reader of the host's logs.
type Logs struct {
	policy *Policy
	dir    string
	lim    Limits
	now    func() time.Time
}

var _ Reader = (*Logs)(nil)

// New validates cfg.
func New(cfg Config) (*Logs, error) {
	if cfg.Allow == nil {
		cfg.Allow = DefaultAllow()
	}
	p, err := NewPolicy(cfg.Allow)
	if err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	lim := cfg.Limits.WithDefaults()
	lim.BatchLines = min(lim.BatchLines, lim.LinesPerSecond)
	return &Logs{policy: p, dir: cfg.JournalDir, lim: lim, now: cfg.Now}, nil
}

// Policy is the agent's allow-list.
func (l *Logs) Policy() *Policy { return l.policy }

// Key validates src and names it as the allow-lists see it: the cleaned
// path or glob, "journal", "journal:UNIT" or "eventlog:CHANNEL".
func (l *Logs) Key(src Source) (string, error) {
	switch src.Kind {
	case KindFile:
		return cleanFile(src.Path)
	case KindJournal:
		if src.Unit == "" {
			return journalKey, nil
		}
		if err := validUnit(src.Unit); err != nil {
			return "", err
		}
		return journalPfx + src.Unit, nil
	case KindEventLog:
		if err := validChannel(src); err != nil {
			return "", err
		}
		return eventlogPfx + src.Channel, nil
	case KindService:
		// A service is named by the service rules (its backend adds its own:
		// a journal unit's below, through Key).
		if err := svcname.Validate(src.Service); err != nil {
			return "", err
		}
		s, err := serviceSource(src.Service)
		if err != nil {
			return "", err
		}
		return l.Key(s)
	}
	return "", fmt.Errorf("%w: no log source given", errdefs.ErrInvalidArgument)
}

func validChannel(src Source) error {
	for _, v := range []string{src.Channel, src.Provider, src.XPath} {
		if len(v) > MaxSourceLen || strings.ContainsRune(v, 0) {
			return fmt.Errorf("%w: event log channel, provider or query too long or malformed", errdefs.ErrInvalidArgument)
		}
	}
	if src.Channel == "" {
		return fmt.Errorf("%w: no event log channel given", errdefs.ErrInvalidArgument)
	}
	return nil
}

// prepare validates a request's common parts and checks the allow-lists.
func (l *Logs) prepare(src Source, f Filter, roles map[string][]string, lines int) (Source, string, *Policy, *matcher, int, error) {
	key, err := l.Key(src)
	if err != nil {
		return src, "", nil, nil, 0, err
	}
	if src.Kind == KindService {
		if src, err = serviceSource(src.Service); err != nil {
			return src, "", nil, nil, 0, err
		}
	}
	p := l.policy.ForRoles(roles)
	if err := p.check(key); err != nil {
		return src, "", nil, nil, 0, err
	}
	m, err := f.compile()
	if err != nil {
		return src, "", nil, nil, 0, err
	}
	n, err := l.lim.lines(lines)
	return src, key, p, m, n, err
}

// Read returns the last entries of a source.
func (l *Logs) Read(ctx context.Context, req ReadRequest) ([]Entry, string, error) {
	src, key, p, m, n, err := l.prepare(req.Source, req.Filter, req.Roles, req.Lines)
	if err != nil {
		return nil, "", err
	}
	if n == 0 {
		n = DefaultReadLines
	}
	switch src.Kind {
	case KindFile:
		if !req.Since.IsZero() {
			return nil, "", fmt.Errorf("%w: file lines carry no timestamps: use lines instead of since", errdefs.ErrInvalidArgument)
		}
		files, err := p.expand(key)
		if err != nil {
			return nil, "", err
		}
		return readFiles(files, p, l.lim, m, n, l.now)
	case KindJournal:
		return readJournal(ctx, l.dir, src.Unit, m, n, req, l.lim)
	default:
		return readEventLog(ctx, src, m, n, req, l.lim)
	}
}

// Follow opens a follow stream; request errors are returned here.
func (l *Logs) Follow(_ context.Context, req FollowRequest) (Stream, error) {
	src, key, p, m, n, err := l.prepare(req.Source, req.Filter, req.Roles, req.Lines)
	if err != nil {
		return nil, err
	}
	req.Lines = n
	if req.Cursor != "" && cursorKind(req.Cursor) != src.Kind {
		return nil, fmt.Errorf("%w: the cursor belongs to another kind of source", errdefs.ErrInvalidArgument)
	}
	var s Stream
	switch src.Kind {
	case KindFile:
		if !req.Since.IsZero() {
			return nil, fmt.Errorf("%w: file lines carry no timestamps: use lines instead of since", errdefs.ErrInvalidArgument)
		}
		s, err = followFiles(key, p, l.lim, m, req, l.now)
	case KindJournal:
		s, err = followJournal(l.dir, src.Unit, m, req, l.lim)
	default:
		s, err = followEventLog(src, m, req, l.lim)
	}
	if err != nil {
		return nil, err
	}
	return &throttled{Stream: s, lim: rate.NewLimiter(rate.Limit(l.lim.LinesPerSecond), l.lim.LinesPerSecond)}, nil
}

// throttled holds a stream to its lines-per-second budget. Waiting, not
// dropping: a file or journalctl's pipe buffers what is not yet sent.
type throttled struct {
	Stream
	lim *rate.Limiter
}

func (t *throttled) Next(ctx context.Context) ([]Entry, error) {
	es, err := t.Stream.Next(ctx)
	if err != nil || len(es) == 0 {
		return es, err
	}
	if err := t.lim.WaitN(ctx, min(len(es), t.lim.Burst())); err != nil {
		return nil, err
	}
	return es, nil
}
