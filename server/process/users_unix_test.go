//go:build !windows

package process

import (
	"errors"
	"testing"
	"time"
)

func TestUserCache(t *testing.T) {
	calls := map[string]int{}
	names := map[string]string{"0": "root"}
	c := newNameCache(uidName(func(uid string) (string, error) {
		calls[uid]++
		if n, ok := names[uid]; ok {
			return n, nil
		}
		return "", errors.New("unknown user")
	}))
	t0 := time.Unix(1000, 0)

	if got := c.name(0, t0); got != "root" {
		t.Fatalf("name(0) = %q", got)
	}
	if got := c.name(0, t0.Add(userCacheTTL-time.Second)); got != "root" || calls["0"] != 1 {
		t.Fatalf("cached hit: %q after %d lookups", got, calls["0"])
	}
	// No such user: the decimal uid, as ps shows, and the miss is cached.
	if got := c.name(1234, t0); got != "1234" {
		t.Fatalf("name(1234) = %q", got)
	}
	c.name(1234, t0.Add(time.Second))
	if calls["1234"] != 1 {
		t.Fatalf("miss looked up %d times, want 1", calls["1234"])
	}
	// The user is created: it shows up once the cached miss expires.
	names["1234"] = "alice"
	if got := c.name(1234, t0.Add(userCacheTTL+time.Second)); got != "alice" || calls["1234"] != 2 {
		t.Fatalf("after TTL: %q after %d lookups", got, calls["1234"])
	}
}
