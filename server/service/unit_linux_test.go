package service

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/remotectl/remotectl/internal/errdefs"
)

func TestUnitName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"ssh", "ssh.service"},
		{"ssh.service", "ssh.service"},
		{"getty@tty1", "getty@tty1.service"},
		{"getty@tty1.service", "getty@tty1.service"},
		{"systemd-fsck@dev-disk-by\\x2duuid-1.service", "systemd-fsck@dev-disk-by\\x2duuid-1.service"},
		{"foo.bar", "foo.bar.service"}, // unknown suffix: part of the name
		{"a:b_c.d", "a:b_c.d.service"},
		{strings.Repeat("a", 247), strings.Repeat("a", 247) + ".service"}, // 255 bytes
	} {
		got, err := unitName(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("unitName(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{
		"", "../x", "a b", "a/b", "-a", strings.Repeat("a", 300),
		strings.Repeat("a", 248), // 256 bytes with the suffix
		"ünicode", "a*b", "a\x01", ".service", "@.service", "foo@.service", "foo@", "@foo",
		"a@b@c", "sshd.socket", "multi-user.target", "home.mount",
	} {
		if got, err := unitName(in); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("unitName(%q) = %q, %v; want ErrInvalidArgument", in, got, err)
		}
	}
}

func TestStateOf(t *testing.T) {
	for in, want := range map[string]State{
		"active": StateRunning, "reloading": StateReloading, "inactive": StateStopped,
		"failed": StateFailed, "activating": StateStarting, "deactivating": StateStopping,
		"refreshing": StateRunning, "maintenance": StateUnknown, "": StateUnknown, "bogus": StateUnknown,
	} {
		if got := stateOf(in); got != want {
			t.Errorf("stateOf(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestStartTypeOf(t *testing.T) {
	for in, want := range map[string]StartType{
		"enabled": StartTypeAutomatic, "enabled-runtime": StartTypeAutomatic,
		"disabled": StartTypeManual, "static": StartTypeManual, "indirect": StartTypeManual,
		"linked": StartTypeManual, "linked-runtime": StartTypeManual,
		"generated": StartTypeManual, "transient": StartTypeManual,
		"masked": StartTypeDisabled, "masked-runtime": StartTypeDisabled,
		"alias": StartTypeUnknown, "bad": StartTypeUnknown, "": StartTypeUnknown,
	} {
		if got := startTypeOf(in); got != want {
			t.Errorf("startTypeOf(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestExecCommand(t *testing.T) {
	entry := func(path string, argv ...string) []any {
		return []any{path, argv, false, uint64(0), uint64(0), uint64(0), uint64(0), uint32(0), int32(0), int32(0)}
	}
	for _, tc := range []struct {
		in   any
		want string
	}{
		{nil, ""},
		{[][]any{}, ""},
		{[][]any{entry("/bin/sleep", "/bin/sleep", "infinity")}, "/bin/sleep infinity"},
		{[][]any{entry("/usr/sbin/sshd", "sshd", "-D")}, "/usr/sbin/sshd -D"},
		{[][]any{entry("/bin/sh", "sh", "-c", "echo hi; exit 1")}, `/bin/sh -c "echo hi; exit 1"`},
		{[][]any{entry("/bin/true", "true"), entry("/bin/echo", "echo", "")}, `/bin/true; /bin/echo ""`},
		{[][]any{{"/short"}}, ""}, // malformed entries are skipped
	} {
		if got := execCommand(tc.in); got != tc.want {
			t.Errorf("execCommand(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestServiceUnits(t *testing.T) {
	got := serviceUnits(
		[]string{"b.service", "sysinit.target", "a.service"},
		nil,
		[]string{"a.service", "x.socket", "c.service"},
	)
	if want := []string{"a.service", "b.service", "c.service"}; !reflect.DeepEqual(got, want) {
		t.Errorf("serviceUnits = %v, want %v", got, want)
	}
}

func TestTemplates(t *testing.T) {
	if !isTemplate("getty@.service") || isTemplate("getty@tty1.service") || isTemplate("ssh.service") {
		t.Error("isTemplate")
	}
	if got := templateOf("getty@tty1.service"); got != "getty@.service" {
		t.Errorf("templateOf = %q", got)
	}
	if got := templateOf("ssh.service") + templateOf("getty@.service"); got != "" {
		t.Errorf("templateOf of non-instances = %q", got)
	}
}

func TestListPatterns(t *testing.T) {
	all := []string{"*.service"}
	for in, want := range map[string][]string{
		"":            all,
		"*":           all,
		"ssh*":        {"ssh*", "ssh*.service"},
		"getty@tty?":  {"getty@tty?", "getty@tty?.service"},
		"ssh.service": {"ssh.service", "ssh.service.service"},
		"[a-z]*":      all, // classes differ between path.Match and fnmatch
		`a\*`:         all, // so do escapes
		"a b*":        all,
	} {
		if got := listPatterns(in); !reflect.DeepEqual(got, want) {
			t.Errorf("listPatterns(%q) = %q, want %q", in, got, want)
		}
	}
}
