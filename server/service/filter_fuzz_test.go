package service

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/remotectl/remotectl/internal/errdefs"
)

// FuzzValidateName: never panics; accepted names obey the documented rules.
func FuzzValidateName(f *testing.F) {
	for _, s := range []string{"nginx.service", "", "-rf", "../etc", "a/b", "ssh@1.service", "bad\x00", "\xff", "Print Spooler", strings.Repeat("x", 257)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		err := ValidateName(name)
		if err != nil {
			if !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Fatalf("rejection %v is not ErrInvalidArgument", err)
			}
			return
		}
		if name == "" || len(name) > MaxNameLen || !utf8.ValidString(name) || strings.HasPrefix(name, "-") || strings.ContainsRune(name, '/') {
			t.Fatalf("accepted invalid name %q", name)
		}
	})
}

// FuzzFilterValidate: Validate never panics, rejects only with
// ErrInvalidArgument, and an accepted glob matches without panicking.
func FuzzFilterValidate(f *testing.F) {
	for _, s := range []string{"", "ssh*", "[a-z]*.service", "[", `\`, "[^]", "a[b-", "*\\*"} {
		f.Add(s, "ssh.service", "OpenSSH server", 1)
	}
	f.Fuzz(func(t *testing.T, glob, name, display string, state int) {
		flt := Filter{NameGlob: glob, States: []State{State(state)}}
		if err := flt.Validate(); err != nil {
			if !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Fatalf("rejection %v is not ErrInvalidArgument", err)
			}
			return
		}
		if !State(state).Known() {
			t.Fatalf("accepted unknown state %d", state)
		}
		_ = flt.Match(Service{Name: name, DisplayName: display, State: State(state)})
	})
}
