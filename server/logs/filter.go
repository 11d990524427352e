package logs

import (
	"fmt"
	"regexp"

	"github.com/remotectl/remotectl/internal/errdefs"
)

// Filter narrows entries on the agent. RE2 patterns run in linear time, so
// a caller cannot make the agent backtrack.
type Filter struct {
	Include []string
	Exclude []string
	// MaxPriority keeps entries this severe or more (unspecified: all);
	// entries of unknown priority (plain files) are kept.
	MaxPriority Priority
}

// matcher is a compiled Filter.
type matcher struct {
	include, exclude []*regexp.Regexp
	max              Priority
}

func (f Filter) compile() (*matcher, error) {
	if len(f.Include)+len(f.Exclude) > MaxPatterns {
		return nil, fmt.Errorf("%w: %d patterns, the limit is %d", errdefs.ErrInvalidArgument, len(f.Include)+len(f.Exclude), MaxPatterns)
	}
	if f.MaxPriority < PriorityUnspecified || f.MaxPriority > PriorityDebug {
		return nil, fmt.Errorf("%w: unknown priority %d", errdefs.ErrInvalidArgument, f.MaxPriority)
	}
	m := &matcher{max: f.MaxPriority}
	for _, list := range []struct {
		pats []string
		out  *[]*regexp.Regexp
		flag string
	}{{f.Include, &m.include, "grep"}, {f.Exclude, &m.exclude, "exclude"}} {
		for _, p := range list.pats {
			if len(p) > MaxPatternLen {
				return nil, fmt.Errorf("%w: %s pattern longer than %d bytes", errdefs.ErrInvalidArgument, list.flag, MaxPatternLen)
			}
			re, err := regexp.Compile(p)
			if err != nil {
				return nil, fmt.Errorf("%w: %s pattern %q: %w", errdefs.ErrInvalidArgument, list.flag, p, err)
			}
			*list.out = append(*list.out, re)
		}
	}
	return m, nil
}

// Validate checks the patterns and the priority.
func (f Filter) Validate() error {
	_, err := f.compile()
	return err
}

func (m *matcher) keep(e *Entry) bool {
	if m.max != PriorityUnspecified && e.Priority != PriorityUnspecified && e.Priority > m.max {
		return false
	}
	if len(m.include) > 0 {
		hit := false
		for _, re := range m.include {
			if re.MatchString(e.Message) {
				hit = true
				break
			}
		}
		if !hit {
			return false
		}
	}
	for _, re := range m.exclude {
		if re.MatchString(e.Message) {
			return false
		}
	}
	return true
}

// apply filters entries in place.
func (m *matcher) apply(es []Entry) []Entry {
	if len(m.include) == 0 && len(m.exclude) == 0 && m.max == PriorityUnspecified {
		return es
	}
	out := es[:0]
	for i := range es {
		if m.keep(&es[i]) {
			out = append(out, es[i])
		}
	}
	return out
}
