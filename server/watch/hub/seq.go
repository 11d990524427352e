package hub

import (
	"math/rand/v2"
	"time"
)

// Sequence numbers are JSON-safe (below 2^53, so jq and JavaScript keep them
// exact) and never repeat across agent restarts: the high bits are an epoch,
// the tenth of a second the numbering began (counted from epochBase), the low
// counterBits count events within it. A restarted hub begins a new epoch, so
// a client resuming with a number of an earlier run is resynced, never
// misled; resuming within a run is exact.
const (
	counterBits = 20 // 1 M events per epoch; a full counter starts a new epoch
	epochBits   = 53 - counterBits
)

// epochBase is 2025-01-01 UTC; epochs (tenths of a second) stay below 2^33
// past it (year 2052).
var epochBase = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// MaxSeq is the largest sequence number a hub hands out.
const MaxSeq = 1<<53 - 1

// epochUnit is short enough that a restarted agent never reuses an epoch.
const epochUnit = 100 * time.Millisecond

// epochAt returns the epoch that begins at now, later than prev. A clock
// before epochBase (an unset real-time clock) cannot order runs: a random
// epoch then still keeps them apart, which is what resuming needs.
func epochAt(now time.Time, prev uint64) uint64 {
	d := now.Sub(epochBase)
	if d <= 0 {
		return max(rand.Uint64N(1<<epochBits-1)+1, prev+1)
	}
	e := min(uint64(d/epochUnit)+1, 1<<epochBits-1)
	return max(e, prev+1)
}

// EpochOf returns the epoch a sequence number belongs to.
func EpochOf(seq uint64) uint64 { return seq >> counterBits }

func firstSeq(epoch uint64) uint64 { return epoch << counterBits }

// counterFull reports whether seq is the last number of its epoch.
func counterFull(seq uint64) bool { return seq&(1<<counterBits-1) == 1<<counterBits-1 }
