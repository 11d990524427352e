//go:build !windows

package audit

import (
	"fmt"
	"os"
	"syscall"
)

// openAppend opens path for append without following a final symlink, and
// refuses anything but a regular file owned by this user (or root) that
// group and others cannot write.
func openAppend(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit: %w (a symbolic link is refused)", err)
	}
	fi, err := f.Stat()
	if err == nil {
		err = trusted(path, fi)
	}
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	return f, nil
}

func trusted(path string, fi os.FileInfo) error {
	if fi.Mode()&os.ModeCharDevice != 0 {
		return nil // /dev/null, /dev/full, a tty: named by the operator, nothing to plant
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("audit: %s is not a regular file (%s)", path, fi.Mode().Type())
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() && st.Uid != 0 {
		return fmt.Errorf("audit: %s is owned by uid %d, not by the agent's user (uid %d); refusing a file someone else controls", path, st.Uid, os.Geteuid())
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("audit: %s is writable by group or others (mode %v); chmod go-w it", path, fi.Mode().Perm())
	}
	return nil
}
