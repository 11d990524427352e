package securefs

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/windows"
)

// TestStateDirACL: EnsureDir creates a directory only SYSTEM and
// Administrators may use, and CheckDir refuses one whose DACL also lets
// Users in (issue 13, finding 5). Wine stores the descriptors it is given;
// it does not enforce them against other accounts, which it does not have.
func TestStateDirACL(t *testing.T) {
	// Not t.TempDir: Wine refuses to delete some of these directories.
	root, err := os.MkdirTemp("", "securefs")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(root) })
	fresh := filepath.Join(root, "ctld")
	if err := EnsureDir(fresh); err != nil {
		t.Fatalf("EnsureDir: %v", err)
	}
	sd, err := windows.GetNamedSecurityInfo(fresh, windows.SE_FILE_OBJECT, windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		t.Fatal(err)
	}
	if got := sd.String(); underWine() {
		// Wine keeps no descriptors: it maps them to Unix mode bits and
		// reports the file's owner (the agent's account) and SYSTEM.
		t.Logf("Wine reports %s for a directory created with %s", got, privateSDDL)
	} else if got != privateSDDL {
		t.Errorf("created with %s, want %s", got, privateSDDL)
	}
	if err := CheckDir(fresh); err != nil {
		t.Fatalf("CheckDir of the dir EnsureDir made: %v", err)
	}
	loose := filepath.Join(root, "loose")
	if err := mkdirSDDL(loose, "D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1200a9;;;BU)(A;OICI;0x116;;;BU)"); err != nil {
		t.Fatal(err)
	}
	if err := CheckDir(loose); !errors.Is(err, ErrUntrusted) {
		t.Fatalf("a dir Users may read and create in: %v, want ErrUntrusted", err)
	}
	if err := EnsureDir(loose); !errors.Is(err, ErrUntrusted) {
		t.Fatalf("EnsureDir of an existing loose dir: %v, want ErrUntrusted", err)
	}
	null := filepath.Join(root, "nodacl")
	if err := mkdirSDDL(null, "D:NO_ACCESS_CONTROL"); err != nil {
		t.Fatal(err)
	}
	if err := CheckDir(null); !errors.Is(err, ErrUntrusted) {
		t.Fatalf("a dir without DACL: %v, want ErrUntrusted", err)
	}
}

// mkdirSDDL makes dir and then sets its DACL (Wine ignores the security
// attributes of CreateDirectory but stores a DACL set afterwards).
func mkdirSDDL(dir, sddl string) error {
	if err := os.Mkdir(dir, 0o700); err != nil {
		return err
	}
	sd, err := windows.SecurityDescriptorFromString(sddl)
	if err != nil {
		return err
	}
	dacl, _, err := sd.DACL()
	if err != nil {
		return err
	}
	return windows.SetNamedSecurityInfo(dir, windows.SE_FILE_OBJECT,
		windows.DACL_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION, nil, nil, dacl, nil)
}

func underWine() bool {
	return windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version").Find() == nil
}
