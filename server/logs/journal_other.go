//go:build !linux

package logs

import (
	"context"
	"fmt"

	"github.com/remotectl/remotectl/internal/errdefs"
)

var errNoJournal = fmt.Errorf("%w: the systemd journal exists only on Linux", errdefs.ErrNotSupported)

func readJournal(context.Context, string, string, *matcher, int, ReadRequest, Limits) ([]Entry, string, error) {
	return nil, "", errNoJournal
}

func followJournal(string, string, *matcher, FollowRequest, Limits) (Stream, error) {
	return nil, errNoJournal
}
