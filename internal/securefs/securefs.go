// Package securefs creates and checks the files ctld trusts: its state
// directory (configuration, dev CA and keys, audit log) and private keys.
// A directory or key that another user owns or may write is refused, since
// whoever controls it controls the agent (a planted ctld.yaml, a replaced
// CA, a read key).
package securefs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// ErrUntrusted marks a file or directory refused for its owner or permissions.
var ErrUntrusted = errors.New("untrusted")

// EnsureDir creates dir (and missing parents) readable and writable by the
// agent's user and the administrators only; an existing dir must already
// be so (CheckDir).
func EnsureDir(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case err == nil:
		if !fi.IsDir() {
			return fmt.Errorf("%s is not a directory", dir)
		}
		return CheckDir(dir)
	case errors.Is(err, fs.ErrNotExist):
		return mkdirPrivate(dir)
	default:
		return err
	}
}

func untrusted(path, why, fix string) error {
	return fmt.Errorf("%w: %s %s; refusing to trust it (%s)", ErrUntrusted, path, why, fix)
}
