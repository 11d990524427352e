//go:build !windows

package securefs

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

func mkdirPrivate(dir string) error {
	if parent := filepath.Dir(dir); parent != dir {
		if err := os.MkdirAll(parent, 0o755); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		return err
	}
	return os.Chmod(dir, 0o700) // the umask filtered Mkdir's mode
}

// CheckDir refuses a directory that another user (not root) owns or that
// group or others may write.
func CheckDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	return ownedWithout(dir, fi, 0o022, "is writable by group or others", "chmod go-w "+dir)
}

// CheckKey refuses a private key file that is a symbolic link, that another
// user (not root) owns, that others may read or that group or others may
// write. Group read is allowed (Debian's ssl-cert group).
func CheckKey(path string) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return err
	}
	if fi.Mode()&os.ModeSymlink != 0 {
		if fi, err = os.Stat(path); err != nil {
			return err
		}
	}
	return ownedWithout(path, fi, 0o026, "is readable by others or writable by group or others", "chmod 600 "+path)
}

// ownedWithout refuses path (described by fi) when another user (not root)
// owns it or when it has any permission bit of mask; why and fix word the
// refusal.
func ownedWithout(path string, fi os.FileInfo, mask os.FileMode, why, fix string) error {
	if err := owned(path, fi); err != nil {
		return err
	}
	if fi.Mode().Perm()&mask != 0 {
		return untrusted(path, fmt.Sprintf("%s (mode %v)", why, fi.Mode().Perm()), fix)
	}
	return nil
}

func owned(path string, fi os.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	if me := os.Geteuid(); int(st.Uid) != me && st.Uid != 0 {
		return untrusted(path, fmt.Sprintf("is owned by uid %d, not by the agent's user (uid %d) or root", st.Uid, me), "chown it to the agent's user")
	}
	return nil
}
