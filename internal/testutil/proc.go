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
	return CopyProgram(tb, "sleep", name)
}

// CopyProgram copies the program prog (looked up in PATH) under name into a
// temporary directory and returns its path. It skips the test where there
// is no prog.
func CopyProgram(tb testing.TB, prog, name string) string {
	tb.Helper()
	src, err := exec.LookPath(prog)
	if err != nil {
		tb.Skipf("%s not found", prog)
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
