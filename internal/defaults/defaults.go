// Package defaults holds the platform defaults shared by ctld and ctl, so
// that ctl run on the agent's host finds the agent's dev certificates.
// Fill is the one rule by which a zero setting takes its default.
package defaults

import (
	"os"
	"path/filepath"
)

const (
	// Port is the agent's default TCP port.
	Port = "7443"
	// ListenAddr is ctld's default listen address: every interface (the
	// agent exists to be reached remotely; mTLS is always required).
	ListenAddr = ":" + Port
	// Host is ctl's default target.
	Host = "localhost:" + Port
	// StateDirEnv overrides the state directory for both ctld and ctl.
	StateDirEnv = "CTLD_STATE_DIR"
)

// StateDir returns the agent's state directory: $CTLD_STATE_DIR, else the
// platform's system location for root/administrators, else a per-user one.
func StateDir() string {
	if d := os.Getenv(StateDirEnv); d != "" {
		return d
	}
	return platformStateDir()
}

// StateDirs lists where ctl looks for the agent's state, in order:
// $CTLD_STATE_DIR alone when set; otherwise this user's default and then the
// system-wide one, so that a non-root ctl on the host of a root-run agent
// finds its certificates (or can say it may not read them).
func StateDirs() []string {
	if d := os.Getenv(StateDirEnv); d != "" {
		return []string{d}
	}
	dirs := []string{platformStateDir()}
	if sys := systemStateDir(); sys != dirs[0] {
		dirs = append(dirs, sys)
	}
	return dirs
}

// CertsDir is where ctld writes its first-run dev PKI.
func CertsDir(stateDir string) string { return filepath.Join(stateDir, "certs") }
