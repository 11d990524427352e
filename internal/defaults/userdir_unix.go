//go:build !windows

package defaults

import (
	"os"
	"path/filepath"
)

// userDir is a per-user location for a non-root agent.
func userDir(parts ...string) string {
	home, err := os.UserHomeDir()
	if err != nil {
		home = os.TempDir()
	}
	return filepath.Join(append([]string{home}, parts...)...)
}
