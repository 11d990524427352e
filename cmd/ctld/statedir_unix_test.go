//go:build !windows

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunRefusesUntrustedStateDir: ctld run exits with an error naming the
// problem when its state dir is writable by others or owned by another
// user, before it creates or reads anything there (issue 13, finding 7).
func TestRunRefusesUntrustedStateDir(t *testing.T) {
	cases := []struct {
		name  string
		setup func(dir string) error
		want  string
	}{
		{"world-writable", func(d string) error { return os.Chmod(d, 0o777) }, "writable by group or others"},
		{"owned by another user", func(d string) error {
			if os.Geteuid() != 0 {
				t.Skip("needs root to chown the dir to another user")
			}
			return os.Chown(d, 65534, 65534)
		}, "owned by uid 65534"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "state")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := tc.setup(dir); err != nil {
				t.Fatal(err)
			}
			t.Setenv("CTLD_CONFIG", filepath.Join(t.TempDir(), "none.yaml"))
			cfg := filepath.Join(t.TempDir(), "ctld.yaml")
			if err := os.WriteFile(cfg, []byte("listen: 127.0.0.1:0\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			cmd := newRootCmd()
			cmd.SetArgs([]string{"run", "--config", cfg, "--state-dir", dir, "--log-level", "error"})
			err := cmd.Execute()
			if err == nil || !strings.Contains(err.Error(), "state dir") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ctld run: %v, want a refusal naming %q", err, tc.want)
			}
			if _, err := os.Stat(filepath.Join(dir, "certs")); err == nil {
				t.Error("ctld created certs in the untrusted dir before refusing it")
			}
		})
	}
}
