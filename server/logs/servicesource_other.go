//go:build !linux && !windows

package logs

import (
	"fmt"

	"github.com/remotectl/remotectl/internal/errdefs"
)

func serviceSource(name string) (Source, error) {
	return Source{}, fmt.Errorf("%w: service logs of %q: no journal or Event Log on this platform; follow its log file instead", errdefs.ErrNotSupported, name)
}
