package defaults

import "os"

// ConfigFile is read when present and no --config is given.
const ConfigFile = "/Library/Application Support/ctld/ctld.yaml"

func systemStateDir() string { return "/Library/Application Support/ctld" }

func platformStateDir() string {
	if os.Geteuid() == 0 {
		return systemStateDir()
	}
	return userDir("Library", "Application Support", "ctld")
}
