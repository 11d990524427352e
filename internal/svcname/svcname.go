// Package svcname is the portable rule for service names, shared by the
// service backends (server/service) and the log sources that name a service
// (server/logs), which must not link the backends to check a name.
package svcname

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/remotectl/remotectl/internal/errdefs"
)

// MaxLen bounds a service name in bytes on every platform (Windows allows
// 256 characters, systemd 255 bytes).
const MaxLen = 256

// Validate applies the portable rules every backend shares before it
// applies its own: 1..MaxLen bytes of printable UTF-8, no '/' (no path
// tricks such as "../x"), and no leading '-' (never mistaken for an option).
// Violations wrap errdefs.ErrInvalidArgument.
func Validate(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: service name is empty", errdefs.ErrInvalidArgument)
	case len(name) > MaxLen:
		return fmt.Errorf("%w: service name is %d bytes long, the limit is %d", errdefs.ErrInvalidArgument, len(name), MaxLen)
	case !utf8.ValidString(name):
		return fmt.Errorf("%w: service name %q is not valid UTF-8", errdefs.ErrInvalidArgument, name)
	case strings.HasPrefix(name, "-"):
		return fmt.Errorf("%w: service name %q starts with '-'", errdefs.ErrInvalidArgument, name)
	case strings.ContainsRune(name, '/'):
		return fmt.Errorf("%w: service name %q contains '/'", errdefs.ErrInvalidArgument, name)
	}
	for _, r := range name {
		if !unicode.IsPrint(r) {
			return fmt.Errorf("%w: service name %q contains the unprintable character %U", errdefs.ErrInvalidArgument, name, r)
		}
	}
	return nil
}
