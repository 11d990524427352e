//go:build !windows

package securefs

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestUntrustedDirsAndKeysRefused: a state dir or key that another user
// owns or that group/others may write is refused (issue 13, finding 7).
func TestUntrustedDirsAndKeysRefused(t *testing.T) {
	root := t.TempDir()
	fresh := filepath.Join(root, "new", "state")
	if err := EnsureDir(fresh); err != nil {
		t.Fatalf("EnsureDir of a new dir: %v", err)
	}
	if fi, _ := os.Stat(fresh); fi.Mode().Perm() != 0o700 {
		t.Errorf("new state dir has mode %v, want 0700", fi.Mode().Perm())
	}
	cases := []struct {
		name  string
		setup func(p string) error
		key   bool
		ok    bool
	}{
		{"private dir", func(p string) error { return os.Mkdir(p, 0o700) }, false, true},
		{"world-writable dir", func(p string) error { return mkMode(p, 0o777, true) }, false, false},
		{"group-writable dir", func(p string) error { return mkMode(p, 0o770, true) }, false, false},
		{"foreign-owned dir", func(p string) error { return chownNobody(p, true) }, false, false},
		{"private key", func(p string) error { return mkMode(p, 0o600, false) }, true, true},
		{"group-readable key", func(p string) error { return mkMode(p, 0o640, false) }, true, true},
		{"world-readable key", func(p string) error { return mkMode(p, 0o644, false) }, true, false},
		{"foreign-owned key", func(p string) error { return chownNobody(p, false) }, true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(root, filepath.Base(t.Name()))
			if err := tc.setup(p); err != nil {
				t.Skip(err)
			}
			check := EnsureDir
			if tc.key {
				check = CheckKey
			}
			err := check(p)
			if tc.ok && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tc.ok && !errors.Is(err, ErrUntrusted) {
				t.Fatalf("accepted (err %v), want ErrUntrusted", err)
			}
		})
	}
}

func mkMode(p string, mode os.FileMode, dir bool) error {
	var err error
	if dir {
		err = os.Mkdir(p, mode)
	} else {
		err = os.WriteFile(p, []byte("k"), mode)
	}
	if err != nil {
		return err
	}
	return os.Chmod(p, mode)
}

func chownNobody(p string, dir bool) error {
	if os.Geteuid() != 0 {
		return errors.New("needs root to chown to another user")
	}
	if err := mkMode(p, 0o700, dir); err != nil {
		return err
	}
	return os.Chown(p, 65534, 65534)
}
