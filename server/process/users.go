package process

import (
	"sync"
	"time"
)

// userCacheTTL bounds how long an id -> name answer, found or not, is
// reused: long enough to spare a lookup per process, short enough that a
// new or renamed user shows up.
const userCacheTTL = time.Minute

type userEntry struct {
	name    string
	expires time.Time
}

// nameCache maps the user ids of processes (uids, Windows SIDs) to user
// names: one lookup per id and userCacheTTL, not per process.
type nameCache[K comparable] struct {
	// lookup names an id; it always answers, with the id's own spelling
	// for an unknown account.
	lookup func(id K) string

	mu sync.Mutex
	m  map[K]userEntry
}

func newNameCache[K comparable](lookup func(K) string) *nameCache[K] {
	return &nameCache[K]{lookup: lookup, m: make(map[K]userEntry)}
}

// name returns the user name of id as of now.
func (c *nameCache[K]) name(id K, now time.Time) string {
	c.mu.Lock()
	e, ok := c.m[id]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.name
	}
	// Look up unlocked: a slow NSS source must not stall other listings.
	// Two goroutines may both look up the same id; both get the answer.
	name := c.lookup(id)
	c.mu.Lock()
	if len(c.m) > 4096 { // bound memory on hosts with churning ids
		clear(c.m)
	}
	c.m[id] = userEntry{name: name, expires: now.Add(userCacheTTL)}
	c.mu.Unlock()
	return name
}
