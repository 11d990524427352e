package process

import (
	"errors"
	"path"
	"testing"
	"unicode"

	"github.com/remotectl/remotectl/internal/errdefs"
)

// FuzzFilterValidate: Validate never panics, every rejection is
// ErrInvalidArgument, and an accepted filter matches without panicking and
// agrees with path.Match.
func FuzzFilterValidate(f *testing.F) {
	for _, s := range []string{"", "ssh*", "[a-z]?", "[", "a[", `\`, "[^]", "[]a]", "**/*", "\x00", "[\\"} {
		f.Add(s, "root", int32(1), int32(0), 10, "sshd")
	}
	f.Fuzz(func(t *testing.T, glob, user string, pid, ppid int32, limit int, name string) {
		o := ListOptions{Filter: Filter{NameGlob: glob, User: user, PIDs: []int32{pid}, PPID: &ppid}}
		err := o.Validate()
		ferr := o.Filter.Validate()
		for _, e := range []error{err, ferr, ValidateLimit(int64(limit))} {
			if e != nil && !errors.Is(e, errdefs.ErrInvalidArgument) {
				t.Fatalf("rejection %v is not ErrInvalidArgument", e)
			}
		}
		if ferr != nil {
			return
		}
		if len(glob) > MaxGlobLen || len(user) > MaxUserLen || pid <= 0 || ppid < 0 {
			t.Fatalf("accepted out-of-bounds filter %+v", o.Filter)
		}
		for _, r := range user {
			if unicode.IsControl(r) {
				t.Fatalf("accepted user with control character %q", user)
			}
		}
		want, _ := path.Match(glob, name)
		want = want || glob == "" // no glob matches everything
		if got := o.Filter.matchName(name); got != want {
			t.Fatalf("matchName(%q, %q) = %v, path.Match says %v", glob, name, got, want)
		}
		_ = o.Filter.Match(&Process{PID: pid, PPID: ppid, Name: name, User: user})
	})
}
