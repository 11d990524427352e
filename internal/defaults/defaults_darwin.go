package defaults

import "os"

// ConfigFile is read when present and no --config is given.
const ConfigFile = "/Library/Application Support/ctld/ctld.yaml"

func platformStateDir() string {
	if os.Geteuid() == 0 {
		return "/Library/Application Support/ctld"
	}
	return userDir("Library", "Application Support", "ctld")
}
