package process

import (
	"time"

	"golang.org/x/sys/windows"
)

// sidCache maps token user SIDs (as strings) to DOMAIN\user names: a
// LookupAccountSid per SID and minute, not per process.
type sidCache = nameCache[string]

func newSIDCache() *sidCache { return newNameCache(sidName) }

// owner returns the user name of the process h's token.
func (r *winReader) owner(h windows.Handle) (string, error) {
	var tok windows.Token
	if err := windows.OpenProcessToken(h, windows.TOKEN_QUERY, &tok); err != nil {
		return "", err
	}
	defer tok.Close() //nolint:errcheck // a handle we own; nothing to do on failure
	tu, err := tok.GetTokenUser()
	if err != nil {
		return "", err
	}
	return r.users.name(tu.User.Sid.String(), time.Now()), nil
}

// sidName names a SID; an unknown account by its SID string.
func sidName(key string) string {
	sid, err := windows.StringToSid(key)
	if err != nil {
		return key
	}
	acct, dom, _, err := sid.LookupAccount("")
	switch {
	case err != nil || acct == "":
		return key
	case dom != "":
		return dom + `\` + acct
	}
	return acct
}
