// Package version holds build metadata, stamped with -ldflags by the Makefile.
package version

import "runtime"

var (
	// Version is the release version ("dev" for local builds).
	Version = "dev"
	// Commit is the git commit the binary was built from.
	Commit = "unknown"
)

// String returns a one-line description of the build.
func String() string {
	return Version + " (" + Commit + ", " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + ")"
}
