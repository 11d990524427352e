//go:build !windows

package fleet

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// checkOwnership refuses an inventory that another user could have
// written: it says which hosts to trust and which key files to present.
func checkOwnership(path string, fi fs.FileInfo) error {
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("%s is writable by group or others (mode %s): run chmod go-w %s", path, fi.Mode().Perm(), path)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Getuid() && st.Uid != 0 {
		return fmt.Errorf("%s is owned by uid %d, not by you (uid %d)", path, st.Uid, os.Getuid())
	}
	return nil
}
