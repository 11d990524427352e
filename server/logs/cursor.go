package logs

import (
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"
	"sync"

	"github.com/remotectl/remotectl/internal/errdefs"
)

// Cursors are opaque to clients; their prefix names the backend:
//
//	f1:DEV:INO:HEADLEN:HEADCRC:OFFSET:PATH   a file position (after a line)
//	j1:CURSOR                                a journald cursor
//	e1:RECORDID:CHANNEL                      an Event Log record
//
// A file is identified by device and inode plus a fingerprint of its first
// bytes (HEADLEN bytes, CRC-32C), so a reused inode is not mistaken for the
// file the cursor was taken from.
const (
	fileCursorPrefix    = "f1:"
	journalCursorPrefix = "j1:"
	evtCursorPrefix     = "e1:"
	// headMax is how many leading bytes fingerprint a file.
	headMax = 256
)

// headSum fingerprints a file's head. The table is built on first use, not
// at package init: ctl imports this package for the log facts it shares
// with the agent, and building the table cost every ctl run ~0.3 ms.
func headSum(h []byte) uint32 { return crc32.Checksum(h, crcTable()) }

var crcTable = sync.OnceValue(func() *crc32.Table { return crc32.MakeTable(crc32.Castagnoli) })

type fileCursor struct {
	id      fileID
	headLen int
	headSum uint32
	off     int64
	path    string
}

func (c fileCursor) String() string {
	return c.prefix() + strconv.FormatInt(c.off, 10) + ":" + c.path
}

// prefix is everything before the offset (fixed while the head is).
func (c fileCursor) prefix() string {
	return fmt.Sprintf("%s%x:%x:%d:%08x:", fileCursorPrefix, c.id.dev, c.id.ino, c.headLen, c.headSum)
}

func parseFileCursor(s string) (fileCursor, error) {
	bad := fmt.Errorf("%w: malformed file cursor", errdefs.ErrInvalidArgument)
	if !strings.HasPrefix(s, fileCursorPrefix) {
		return fileCursor{}, bad
	}
	parts := strings.SplitN(s[len(fileCursorPrefix):], ":", 6)
	if len(parts) != 6 || parts[5] == "" {
		return fileCursor{}, bad
	}
	var c fileCursor
	var err [5]error
	c.id.dev, err[0] = strconv.ParseUint(parts[0], 16, 64)
	c.id.ino, err[1] = strconv.ParseUint(parts[1], 16, 64)
	hl, e := strconv.Atoi(parts[2])
	err[2] = e
	sum, e := strconv.ParseUint(parts[3], 16, 32)
	err[3] = e
	c.off, err[4] = strconv.ParseInt(parts[4], 10, 64)
	for _, e := range err {
		if e != nil {
			return fileCursor{}, bad
		}
	}
	if hl < 0 || hl > headMax || c.off < 0 {
		return fileCursor{}, bad
	}
	c.headLen, c.headSum, c.path = hl, uint32(sum), parts[5]
	return c, nil
}

// cursorKind tells which backend a cursor belongs to ("" if none).
func cursorKind(s string) Kind {
	switch {
	case strings.HasPrefix(s, fileCursorPrefix):
		return KindFile
	case strings.HasPrefix(s, journalCursorPrefix):
		return KindJournal
	case strings.HasPrefix(s, evtCursorPrefix):
		return KindEventLog
	}
	return 0
}
