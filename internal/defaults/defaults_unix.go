//go:build !windows && !darwin

package defaults

import (
	"os"
	"path/filepath"
)

// ConfigFile is read when present and no --config is given.
const ConfigFile = "/etc/ctld/ctld.yaml"

func systemStateDir() string { return "/var/lib/ctld" }

func platformStateDir() string {
	if os.Geteuid() == 0 {
		return systemStateDir()
	}
	if x := os.Getenv("XDG_STATE_HOME"); x != "" {
		return filepath.Join(x, "ctld")
	}
	return userDir(".local", "state", "ctld")
}
