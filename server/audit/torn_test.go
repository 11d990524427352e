package audit

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fullDisk is a file that accepts only the first room bytes.
type fullDisk struct {
	buf  bytes.Buffer
	room int
}

func (f *fullDisk) Write(p []byte) (int, error) {
	if left := f.room - f.buf.Len(); len(p) > left {
		f.buf.Write(p[:max(left, 0)])
		return max(left, 0), syscall.ENOSPC
	}
	return f.buf.Write(p)
}

func (f *fullDisk) Stat() (os.FileInfo, error) { return sizeInfo(f.buf.Len()), nil }

func (f *fullDisk) Truncate(n int64) error { f.buf.Truncate(int(n)); return nil }

type sizeInfo int64

func (s sizeInfo) Name() string       { return "audit.log" }
func (s sizeInfo) Size() int64        { return int64(s) }
func (s sizeInfo) Mode() os.FileMode  { return 0o600 }
func (s sizeInfo) ModTime() time.Time { return time.Time{} }
func (s sizeInfo) IsDir() bool        { return false }
func (s sizeInfo) Sys() any           { return nil }

// TestFullDiskLeavesWholeLines: when the disk fills in the middle of a
// record, the partial record is cut off and the error reported, so the
// file holds whole JSON lines only (issue 13, finding 11).
func TestFullDiskLeavesWholeLines(t *testing.T) {
	f := &fullDisk{room: 300}
	s := NewSink(f, "full", nil)
	var err error
	for i := 0; err == nil && i < 10; i++ {
		err = s.Write(Record{Event: EventIntent, Identity: "CN=alice", Method: "/m", Target: "nginx.service"})
	}
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("write on a full disk: %v, want ENOSPC", err)
	}
	out := f.buf.String()
	if !strings.HasSuffix(out, "\n") || strings.Count(out, "{") != strings.Count(out, "\n") {
		t.Fatalf("torn record left in the file: %q", out)
	}
}
