package fleet

import (
	"math/rand/v2"
	"time"
)

// backoff doubles a delay per attempt up to a ceiling, with full jitter,
// so that many hosts failing together do not retry in lockstep.
type backoff struct {
	min, max, cur time.Duration
}

func newBackoff(lo, hi time.Duration) *backoff { return &backoff{min: lo, max: max(lo, hi), cur: lo} }

// next returns a random delay in (0, current] and doubles the current one.
func (b *backoff) next() time.Duration {
	d := time.Duration(rand.Int64N(int64(b.cur))) + 1
	b.cur = min(2*b.cur, b.max)
	return d
}

func (b *backoff) reset() { b.cur = b.min }

// jitter spreads d by ±frac.
func jitter(d time.Duration, frac float64) time.Duration {
	if frac <= 0 || d <= 0 {
		return d
	}
	span := float64(d) * frac
	return d + time.Duration((rand.Float64()*2-1)*span)
}
