package defaults

import (
	"os"
	"path/filepath"
)

// ConfigFile is read when present and no --config is given.
var ConfigFile = filepath.Join(programData(), "ctld", "ctld.yaml")

func programData() string {
	if p := os.Getenv("ProgramData"); p != "" {
		return p
	}
	return `C:\ProgramData`
}

// The agent runs as LocalSystem; ProgramData is where services keep state.
func systemStateDir() string { return filepath.Join(programData(), "ctld") }

func platformStateDir() string { return systemStateDir() }
