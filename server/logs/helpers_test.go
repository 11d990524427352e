package logs

import (
	"os"
	"runtime"
	"testing"
)

// testDir is t.TempDir, except under Windows, where Wine fails Go's
// RemoveAll of the directory ("unlinkat: Invalid function") and would fail
// the test in its cleanup: there removal is best effort.
func testDir(t *testing.T) string {
	t.Helper()
	if runtime.GOOS != "windows" {
		return t.TempDir()
	}
	d, err := os.MkdirTemp("", "logs-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(d) })
	return d
}
