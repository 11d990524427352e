package audit

import (
	"fmt"
	"os"
)

// openAppend opens path for append. A reparse point (symbolic link,
// junction) at path is refused; the directory's ACL (ctld's state
// directory is SYSTEM/Administrators only) keeps others from planting one.
func openAppend(path string) (*os.File, error) {
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		return nil, fmt.Errorf("audit: %s is a symbolic link; refusing to follow it", path)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	return f, nil
}
