package logs

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// followOne follows path (from its end) and returns the stream and its
// only tailer, for tests that step the reader by hand: nothing is read
// until Next is called.
func followOne(ctx context.Context, t *testing.T, dir, path string) (Stream, *tailer) {
	t.Helper()
	s, err := newTestLogs(t, dir, Limits{}).Follow(ctx, FollowRequest{Source: Source{Kind: KindFile, Path: path}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, s.(*throttled).Stream.(*fileStream).tailers[0]
}

func appendLines(t testing.TB, path string, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		appendFile(t, path, fmt.Sprintf("line %06d\n", i))
	}
}

// TestRotationWhileReaderStalled: the reader (a goroutine starved under
// load) reads nothing between the start of the follow and a rotation
// after which the new file has grown past the old offset. Reading the
// truncated file at the old offset would return the middle of the new
// content (copytruncate: a torn line, then lines again from the start:
// duplicates); every line must come once, in order.
func TestRotationWhileReaderStalled(t *testing.T) {
	for name, rotate := range rotations {
		t.Run(name, func(t *testing.T) {
			dir := testDir(t)
			path := filepath.Join(dir, "app.log")
			appendFile(t, path, "old line before the follow\n") // the follow starts at offset 27
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			s, _ := followOne(ctx, t, dir, path)
			appendLines(t, path, 0, 3)
			rotate(t, path)
			appendLines(t, path, 3, 10) // 84 bytes: past offset 27
			checkSequence(t, collect(ctx, t, s, 10), 10)
		})
	}
}

// TestAppendBeforeRenameReadFirst: between the reader's EOF and its look
// at the path, the writer appends a line, renames the file and creates a
// new one with the next line. The renamed file's last line is older than
// the new file's first and must come before it.
func TestAppendBeforeRenameReadFirst(t *testing.T) {
	dir := testDir(t)
	path := filepath.Join(dir, "app.log")
	appendFile(t, path, "")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, tl := followOne(ctx, t, dir, path)
	fired := false
	tl.atEOF = func() {
		if fired {
			return
		}
		fired = true
		appendLines(t, path, 1, 2)
		if err := os.Rename(path, path+".1"); err != nil {
			t.Fatal(err)
		}
		appendLines(t, path, 2, 3)
	}
	appendLines(t, path, 0, 1)
	checkSequence(t, collect(ctx, t, s, 3), 3)
}
