// Package nameglob is the one rule for the name globs of the API's filters
// (processes, services) and of ctl's --name flags: path.Match syntax,
// bounded in length. It has no dependencies, so domain packages and ctl
// share it.
package nameglob

import (
	"fmt"
	"path"
)

// MaxLen bounds a glob in bytes: path.Match backtracks on stars, so an
// unbounded pattern is a CPU lever for the caller.
const MaxLen = 256

// Check reports why glob is not a valid name glob, or nil. The empty glob
// is valid (it selects everything). Callers wrap the error in their own
// kind (errdefs.ErrInvalidArgument, a usage error).
func Check(glob string) error {
	if len(glob) > MaxLen {
		return fmt.Errorf("longer than %d bytes", MaxLen)
	}
	// path.Match reports a malformed pattern only when it gets far enough,
	// so match against "", which walks the whole pattern.
	if _, err := path.Match(glob, ""); err != nil {
		return err
	}
	return nil
}
