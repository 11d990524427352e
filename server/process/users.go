package process

import (
	"os/user"
	"strconv"
	"sync"
	"time"
)

// userCacheTTL bounds how long a uid -> name answer, found or not, is
// reused: long enough to spare a lookup per process, short enough that a
// new or renamed user shows up.
const userCacheTTL = time.Minute

type userEntry struct {
	name    string
	expires time.Time
}

// userCache maps uids to user names. Unknown uids map to their decimal
// form, as ps shows them.
type userCache struct {
	lookup func(uid string) (string, error)

	mu sync.Mutex
	m  map[uint32]userEntry
}

func newUserCache() *userCache {
	return &userCache{
		lookup: func(uid string) (string, error) {
			u, err := user.LookupId(uid)
			if err != nil {
				return "", err
			}
			return u.Username, nil
		},
		m: make(map[uint32]userEntry),
	}
}

// name returns the user name of uid as of now.
func (c *userCache) name(uid uint32, now time.Time) string {
	c.mu.Lock()
	e, ok := c.m[uid]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.name
	}
	// Look up unlocked: a slow NSS source must not stall other listings.
	// Two goroutines may both look up the same uid; both get the answer.
	id := strconv.FormatUint(uint64(uid), 10)
	name, err := c.lookup(id)
	if err != nil || name == "" {
		name = id
	}
	c.mu.Lock()
	if len(c.m) > 4096 { // bound memory on hosts with churning uids
		clear(c.m)
	}
	c.m[uid] = userEntry{name: name, expires: now.Add(userCacheTTL)}
	c.mu.Unlock()
	return name
}
