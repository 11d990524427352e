//go:build !windows

package logs

import (
	"context"
	"fmt"

	"github.com/remotectl/remotectl/internal/errdefs"
)

var errNoEventLog = fmt.Errorf("%w: the Windows Event Log exists only on Windows", errdefs.ErrNotSupported)

func readEventLog(context.Context, Source, *matcher, int, ReadRequest, Limits) ([]Entry, string, error) {
	return nil, "", errNoEventLog
}

func followEventLog(Source, *matcher, FollowRequest, Limits) (Stream, error) {
	return nil, errNoEventLog
}
