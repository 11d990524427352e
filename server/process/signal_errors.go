//go:build linux || windows

package process

import (
	"fmt"
	"time"

	"github.com/remotectl/remotectl/internal/errdefs"
)

// staleErr is the refusal of an identity that no longer holds.
func staleErr(k Key, actual time.Time) error {
	return fmt.Errorf("%w: process %d started at %s is gone: pid %d now names a process started at %s (pid reused; list processes again)",
		errdefs.ErrNotFound, k.PID, k.StartTime.UTC().Format(time.RFC3339Nano), k.PID, actual.UTC().Format(time.RFC3339Nano))
}

func goneErr(k Key) error {
	return fmt.Errorf("%w: process %d started at %s has exited", errdefs.ErrNotFound, k.PID, k.StartTime.UTC().Format(time.RFC3339Nano))
}
