package logs

import (
	"fmt"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/remotectl/remotectl/internal/errdefs"
)

// Allow-list entries are file globs ("/var/log/**", "**" crosses
// directories), "journal" (the whole journal), "journal:UNIT-GLOB" and
// "eventlog:CHANNEL-GLOB". The same syntax serves the agent's list (ctld
// --logs-allow) and the per-role lists (authz role_logs_allow).
const (
	journalKey  = "journal"
	journalPfx  = "journal:"
	eventlogPfx = "eventlog:"
)

// DeniedFiles are never served, whatever an allow-list says: kernel and
// device pseudo-files, password hashes, and private keys (including the
// agent's own). They are matched against the requested and the resolved
// path.
var DeniedFiles = []string{
	"/proc/**", "/sys/**", "/dev/**",
	"/etc/shadow*", "/etc/gshadow*", "/etc/security/opasswd", "/etc/sudoers*",
	"/etc/ssh/ssh_host_*", "**/.ssh/**", "**/*.key", "**/*_key", "**/id_rsa*", "**/id_ecdsa*", "**/id_ed25519*",
	"**/*.p12", "**/*.pfx",
	"c:/windows/system32/config/**",
}

// Policy is the agent's log allow-list. It is immutable.
type Policy struct {
	allow []string
	// roles, when set, are the caller's per-role lists: a key must also
	// be on one of them.
	roles map[string][]string
}

// ForRoles narrows p to keys that are also on at least one of the given
// per-role lists (role name -> list); an empty map leaves p as it is.
func (p *Policy) ForRoles(lists map[string][]string) *Policy {
	if len(lists) == 0 {
		return p
	}
	return &Policy{allow: p.allow, roles: lists}
}

// NewPolicy validates the allow-list entries.
func NewPolicy(allow []string) (*Policy, error) {
	if err := ValidateAllowList("logs.allow", allow); err != nil {
		return nil, err
	}
	return &Policy{allow: append([]string(nil), allow...)}, nil
}

// Allow returns the allow-list as configured.
func (p *Policy) Allow() []string { return append([]string(nil), p.allow...) }

// ValidateAllowList checks the syntax of an allow-list (field names it in
// errors).
func ValidateAllowList(field string, list []string) error {
	for _, e := range list {
		switch {
		case e == "":
			return fmt.Errorf("%s: empty entry", field)
		case e == journalKey:
		case strings.HasPrefix(e, journalPfx), strings.HasPrefix(e, eventlogPfx):
			g := e[strings.Index(e, ":")+1:]
			if _, err := path.Match(g, ""); err != nil || g == "" {
				return fmt.Errorf("%s: entry %q: bad glob after the colon", field, e)
			}
		case isAbs(e):
			if !doublestar.ValidatePattern(normFile(e)) {
				return fmt.Errorf("%s: entry %q: bad glob", field, e)
			}
		default:
			return fmt.Errorf("%s: entry %q: want an absolute file glob, journal, journal:UNIT or eventlog:CHANNEL", field, e)
		}
	}
	return nil
}

// isAbs accepts / paths everywhere and drive paths on Windows.
func isAbs(p string) bool {
	return strings.HasPrefix(p, "/") || filepath.IsAbs(p) || len(p) > 2 && p[1] == ':' && (p[2] == '\\' || p[2] == '/')
}

// normFile is how file keys and file globs are compared: slashes, and
// lower case where the file system ignores case.
func normFile(p string) string {
	p = filepath.ToSlash(p)
	if runtime.GOOS == "windows" || runtime.GOOS == "darwin" {
		p = strings.ToLower(p)
	}
	return p
}

// MatchList reports the first entry of list that grants key (a value of
// Reader.Key).
func MatchList(list []string, key string) (string, bool) {
	for _, e := range list {
		if matchEntry(e, key) {
			return e, true
		}
	}
	return "", false
}

func matchEntry(e, key string) bool {
	switch {
	case strings.HasPrefix(key, eventlogPfx):
		if !strings.HasPrefix(e, eventlogPfx) {
			return false
		}
		ok, _ := path.Match(strings.ToLower(e[len(eventlogPfx):]), strings.ToLower(key[len(eventlogPfx):]))
		return ok
	case key == journalKey:
		return e == journalKey
	case strings.HasPrefix(key, journalPfx):
		if e == journalKey {
			return true
		}
		if !strings.HasPrefix(e, journalPfx) {
			return false
		}
		g, u := e[len(journalPfx):], key[len(journalPfx):]
		ok, _ := path.Match(g, u)
		ok2, _ := path.Match(g, strings.TrimSuffix(u, ".service"))
		return ok || ok2
	}
	if !isAbs(e) {
		return false
	}
	return doublestar.MatchUnvalidated(normFile(e), normFile(key))
}

// denied reports the DeniedFiles pattern a path hits.
func denied(p string) (string, bool) {
	n := normFile(p)
	for _, g := range DeniedFiles {
		if doublestar.MatchUnvalidated(g, n) {
			return g, true
		}
	}
	return "", false
}

// check refuses a key that the agent's list does not grant, naming the list.
func (p *Policy) check(key string) error {
	if isAbs(key) {
		if g, hit := denied(key); hit {
			return p.deniedErr(key, g)
		}
	}
	if _, ok := MatchList(p.allow, key); !ok {
		return fmt.Errorf("%w: %s is not on the agent's logs allow-list (%s); see ctld --logs-allow",
			errdefs.ErrPermissionDenied, key, strings.Join(p.allow, ", "))
	}
	if len(p.roles) == 0 {
		return nil
	}
	var lists []string
	for role, list := range p.roles {
		if _, ok := MatchList(list, key); ok {
			return nil
		}
		lists = append(lists, role+": "+strings.Join(list, ", "))
	}
	slices.Sort(lists)
	return fmt.Errorf("%w: %s is not on the role_logs_allow list of your roles (%s)",
		errdefs.ErrPermissionDenied, key, strings.Join(lists, "; "))
}

func (p *Policy) deniedErr(path, rule string) error {
	return fmt.Errorf("%w: %s is never served, whatever the logs allow-list (%s) says (built-in deny rule %q)",
		errdefs.ErrPermissionDenied, path, strings.Join(p.allow, ", "), rule)
}

// cleanFile validates a requested file path or glob and cleans it ("..").
func cleanFile(p string) (string, error) {
	switch {
	case p == "":
		return "", fmt.Errorf("%w: empty file path", errdefs.ErrInvalidArgument)
	case len(p) > MaxSourceLen:
		return "", fmt.Errorf("%w: path longer than %d bytes", errdefs.ErrInvalidArgument, MaxSourceLen)
	case strings.ContainsRune(p, 0):
		return "", fmt.Errorf("%w: path contains NUL", errdefs.ErrInvalidArgument)
	case !isAbs(p):
		return "", fmt.Errorf("%w: file path %q is not absolute", errdefs.ErrInvalidArgument, p)
	}
	c := filepath.Clean(p)
	if _, err := filepath.Match(c, ""); err != nil {
		return "", fmt.Errorf("%w: file glob %q: %w", errdefs.ErrInvalidArgument, p, err)
	}
	return c, nil
}

// resolve checks one concrete file: the cleaned path and the path its
// symlinks resolve to must both pass the deny rules, and the resolved one
// the allow-list. It returns the resolved path.
func (p *Policy) resolve(clean string) (string, error) {
	if g, hit := denied(clean); hit {
		return "", p.deniedErr(clean, g)
	}
	resolved, err := filepath.EvalSymlinks(clean)
	if err != nil {
		return "", notExist(err)
	}
	if err := p.check(resolved); err != nil {
		return "", err
	}
	return resolved, nil
}
