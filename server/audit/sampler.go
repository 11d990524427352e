package audit

import (
	"sort"
	"sync"
	"time"
)

// Sampler bounds how many records a class of noisy events (refused
// handshakes from strangers, denials of authenticated callers) may write:
// per interval, each key (a source address, an identity) gets PerKey
// records and at most MaxKeys keys get any; the rest is counted, and the
// counts come back as tallies when the interval ends, to be written as one
// summary record per key. So strangers can neither fill the disk nor bury
// the records of real changes, and nothing goes unaccounted.
type Sampler struct {
	Interval time.Duration
	PerKey   int
	MaxKeys  int

	mu       sync.Mutex
	window   time.Time
	admitted map[string]int
	dropped  map[string]int
	overflow int // events of keys beyond MaxKeys
}

// Tally is what a key had suppressed during one interval.
type Tally struct {
	Key        string // OverflowKey for keys beyond MaxKeys
	Suppressed int
	Since      time.Time
}

// OverflowKey is the tally key of events whose own key did not fit.
const OverflowKey = "*other sources*"

// NewSampler returns a sampler with the given budget.
func NewSampler(interval time.Duration, perKey, maxKeys int) *Sampler {
	return &Sampler{Interval: interval, PerKey: perKey, MaxKeys: maxKeys}
}

// Admit counts one event of key at now and reports whether it may be
// written; when now starts a new interval the previous one's tallies are
// returned too, for the caller to write first.
func (s *Sampler) Admit(key string, now time.Time) (ok bool, flushed []Tally) {
	s.mu.Lock()
	defer s.mu.Unlock()
	flushed = s.rollLocked(now)
	if _, seen := s.admitted[key]; !seen && len(s.admitted) >= s.MaxKeys {
		s.overflow++
		return false, flushed
	}
	if s.admitted[key] < s.PerKey {
		s.admitted[key]++
		return true, flushed
	}
	s.dropped[key]++
	return false, flushed
}

// Flush returns the tallies of an interval that has ended by now (nil
// while the current one runs).
func (s *Sampler) Flush(now time.Time) []Tally {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rollLocked(now)
}

func (s *Sampler) rollLocked(now time.Time) []Tally {
	if s.admitted != nil && now.Sub(s.window) < s.Interval {
		return nil
	}
	var out []Tally
	for k, n := range s.dropped {
		out = append(out, Tally{Key: k, Suppressed: n, Since: s.window})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	if s.overflow > 0 {
		out = append(out, Tally{Key: OverflowKey, Suppressed: s.overflow, Since: s.window})
	}
	s.window, s.admitted, s.dropped, s.overflow = now, map[string]int{}, map[string]int{}, 0
	return out
}
