package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// NamedSleep copies sleep(1) under name into a temporary directory and
// returns its path, so that a child can be found by its process name (comm
// holds 15 bytes). It skips the test where there is no sleep(1).
func NamedSleep(tb testing.TB, name string) string {
	tb.Helper()
	src, err := exec.LookPath("sleep")
	if err != nil {
		tb.Skip("sleep(1) not found")
	}
	data, err := os.ReadFile(src)
	if err != nil {
		tb.Fatal(err)
	}
	dst := filepath.Join(tb.TempDir(), name)
	if err := os.WriteFile(dst, data, 0o755); err != nil {
		tb.Fatal(err)
	}
	return dst
}
