//go:build !windows

package process

import (
	"os/user"
	"strconv"
)

// userCache maps uids to user names.
type userCache = nameCache[uint32]

func newUserCache() *userCache { return newNameCache(uidName(lookupUID)) }

func lookupUID(uid string) (string, error) {
	u, err := user.LookupId(uid)
	if err != nil {
		return "", err
	}
	return u.Username, nil
}

// uidName names a uid by lookup; an unknown uid by its decimal form, as ps
// shows it.
func uidName(lookup func(uid string) (string, error)) func(uint32) string {
	return func(uid uint32) string {
		id := strconv.FormatUint(uint64(uid), 10)
		if name, err := lookup(id); err == nil && name != "" {
			return name
		}
		return id
	}
}
