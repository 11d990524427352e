//go:build !linux

package watch

import (
	"fmt"
	"runtime"

	"github.com/remotectl/remotectl/internal/errdefs"
	"github.com/remotectl/remotectl/server/process"
)

// newConnector: the process connector is Linux-only; the engine polls.
func newConnector(process.Lister) (producer, error) {
	return nil, fmt.Errorf("%w: process connector on %s", errdefs.ErrNotSupported, runtime.GOOS)
}
