package service

import (
	"fmt"
	"path"

	"github.com/remotectl/remotectl/internal/errdefs"
	"github.com/remotectl/remotectl/internal/nameglob"
)

// Known reports whether s is one of the declared states.
func (s State) Known() bool {
	_, ok := stateNames[s]
	return ok
}

// Validate checks the glob syntax and the states; violations wrap
// errdefs.ErrInvalidArgument. Backends call it before touching the OS.
func (f Filter) Validate() error {
	if err := nameglob.Check(f.NameGlob); err != nil {
		return fmt.Errorf("%w: name glob %q: %w", errdefs.ErrInvalidArgument, f.NameGlob, err)
	}
	for _, s := range f.States {
		if !s.Known() {
			return fmt.Errorf("%w: unknown service state %d in filter", errdefs.ErrInvalidArgument, int(s))
		}
	}
	return nil
}

// Match reports whether s passes the filter. The glob is tried on Name and
// then on DisplayName, so "ssh" finds systemd's "ssh.service" (display name
// "ssh") and "Print*" finds Windows' "Spooler" (display name "Print
// Spooler"). A malformed glob matches nothing; call Validate first.
func (f Filter) Match(s Service) bool {
	return f.MatchName(s.Name, s.DisplayName) && f.MatchState(s.State)
}

// MatchName is the name half of Match, for backends that can drop services
// before fetching their state.
func (f Filter) MatchName(name, displayName string) bool {
	if f.NameGlob == "" {
		return true
	}
	if ok, _ := path.Match(f.NameGlob, name); ok {
		return true
	}
	if displayName == "" {
		return false
	}
	ok, _ := path.Match(f.NameGlob, displayName)
	return ok
}

// MatchState is the state half of Match.
func (f Filter) MatchState(st State) bool {
	if len(f.States) == 0 {
		return true
	}
	for _, want := range f.States {
		if want == st {
			return true
		}
	}
	return false
}
