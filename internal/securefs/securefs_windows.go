package securefs

import (
	"fmt"
	"os"
	"path/filepath"
	"unsafe"

	"golang.org/x/sys/windows"
)

// privateSDDL: owner-independent, protected (no inheritance from
// %ProgramData%, whose ACL lets Users read and create), full control for
// SYSTEM and Administrators only, inherited by everything created inside.
const privateSDDL = "D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)"

func mkdirPrivate(dir string) error {
	if parent := filepath.Dir(dir); parent != dir {
		if err := os.MkdirAll(parent, 0o755); err != nil {
			return err
		}
	}
	sd, err := windows.SecurityDescriptorFromString(privateSDDL)
	if err != nil {
		return fmt.Errorf("security descriptor for %s: %w", dir, err)
	}
	sa := &windows.SecurityAttributes{Length: uint32(unsafe.Sizeof(windows.SecurityAttributes{})), SecurityDescriptor: sd}
	p, err := windows.UTF16PtrFromString(dir)
	if err != nil {
		return err
	}
	if err := windows.CreateDirectory(p, sa); err != nil {
		return &os.PathError{Op: "mkdir", Path: dir, Err: err}
	}
	return nil
}

// CheckDir refuses a directory whose DACL grants anything to anyone but
// SYSTEM, Administrators, CREATOR OWNER and the agent's own account, or
// that has no DACL at all.
func CheckDir(dir string) error { return checkACL(dir) }

// CheckKey accepts any key file on Windows: a file's own DACL there is
// mostly inherited from its directory, and the state directory (where the
// dev keys live) is checked by CheckDir; keys elsewhere are the operator's
// to protect. (On Unix the mode and owner of the key itself are checked.)
func CheckKey(string) error { return nil }

func checkACL(path string) error {
	sd, err := windows.GetNamedSecurityInfo(path, windows.SE_FILE_OBJECT,
		windows.OWNER_SECURITY_INFORMATION|windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		return fmt.Errorf("read the ACL of %s: %w", path, err)
	}
	dacl, _, err := sd.DACL()
	if err != nil || dacl == nil {
		return untrusted(path, "has no DACL (everyone has full access)", "recreate it or set an ACL for SYSTEM and Administrators only")
	}
	for i := uint32(0); i < uint32(dacl.AceCount); i++ {
		var ace *windows.ACCESS_ALLOWED_ACE
		if err := windows.GetAce(dacl, i, &ace); err != nil {
			return fmt.Errorf("read the ACL of %s: %w", path, err)
		}
		if ace.Header.AceType != windows.ACCESS_ALLOWED_ACE_TYPE {
			continue
		}
		sid := (*windows.SID)(unsafe.Pointer(&ace.SidStart))
		if trusted(sid) {
			continue
		}
		who := sid.String()
		if acct, dom, _, err := sid.LookupAccount(""); err == nil {
			who = dom + `\` + acct + " (" + who + ")"
		}
		return untrusted(path, fmt.Sprintf("grants access (mask 0x%x) to %s", ace.Mask, who),
			`allow only SYSTEM and Administrators, e.g. icacls "`+path+`" /inheritance:r /grant:r SYSTEM:(OI)(CI)F Administrators:(OI)(CI)F`)
	}
	return nil
}

// trusted: SYSTEM, Administrators, CREATOR OWNER (applies to what the
// trusted creator makes inside) and the agent's own account (SYSTEM for the
// service; an administrator running it by hand).
func trusted(sid *windows.SID) bool {
	if self != nil && windows.EqualSid(sid, self) {
		return true
	}
	for _, k := range []windows.WELL_KNOWN_SID_TYPE{windows.WinLocalSystemSid, windows.WinBuiltinAdministratorsSid, windows.WinCreatorOwnerSid} {
		if sid.IsWellKnown(k) {
			return true
		}
	}
	return false
}

var self = func() *windows.SID {
	u, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		return nil
	}
	return u.User.Sid
}()
