package authz

import (
	"strings"
	"testing"

	"github.com/remotectl/remotectl/internal/pki"
)

// TestDefaultAdminBindingNeedsDevCAIssuer: with a bundle of several CAs any
// of them can mint CN=remotectl-admin; the default binding also requires
// the dev CA as issuer, and bindings may name an issuer (finding 8).
func TestDefaultAdminBindingNeedsDevCAIssuer(t *testing.T) {
	p := MustDefault()
	dev := pki.Identity{CommonName: pki.DevAdminCommonName, Issuer: "CN=remotectl dev CA build-7"}
	forged := pki.Identity{CommonName: pki.DevAdminCommonName, Issuer: "CN=Partner CA"}
	if got := p.Roles(dev); len(got) != 1 || got[0] != RoleAdmin {
		t.Errorf("dev admin: roles %v, want [admin]", got)
	}
	if got := p.Roles(forged); len(got) != 0 {
		t.Errorf("remotectl-admin from another CA: roles %v, want none", got)
	}
	q, err := New(Config{Bindings: []Binding{{OU: "ops", Issuer: "CN=Corp Ops CA*", Role: RoleOperator}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := q.Roles(pki.Identity{CommonName: "a", OrganizationalUnits: []string{"ops"}, Issuer: "CN=Corp Ops CA 2"}); len(got) != 1 {
		t.Errorf("issuer glob: roles %v, want [operator]", got)
	}
	if got := q.Roles(pki.Identity{CommonName: "a", OrganizationalUnits: []string{"ops"}, Issuer: "CN=Other"}); len(got) != 0 {
		t.Errorf("wrong issuer: roles %v, want none", got)
	}
	if _, err := New(Config{Bindings: []Binding{{CN: "x", Issuer: "[", Role: RoleAdmin}}}); err == nil {
		t.Error("a malformed issuer pattern was accepted")
	}
}

// TestDecideChangeNamesTheRule covers the pure rules of DecideChange
// (findings 1 and 2): the table of the decorator tests, without a backend.
func TestDecideChangeNamesTheRule(t *testing.T) {
	p, err := New(Config{Bindings: []Binding{{CN: "op", Role: RoleOperator}, {CN: "root", Role: RoleAdmin}},
		RoleServiceAllow: map[string][]string{RoleOperator: {"app-*"}}})
	if err != nil {
		t.Fatal(err)
	}
	op, root := pki.Identity{CommonName: "op"}, pki.Identity{CommonName: "root"}
	for _, tc := range []struct {
		id     pki.Identity
		method string
		c      Change
		want   string // "" = allowed
	}{
		{root, start, Change{Names: []string{"systemd-poweroff", "systemd-poweroff.service"}}, `rule power_units "systemd-poweroff*"`},
		{root, start, Change{Names: []string{"x"}, Stops: []string{"sshd.service"}}, `would stop the protected service "sshd.service"`},
		{root, stop, Change{Names: []string{"x"}, Restarts: []string{"dbus.service"}}, `would restart the protected service "dbus.service"`},
		{op, stop, Change{Names: []string{"app-a"}, Stops: []string{"db.service"}}, `would stop "db.service", which is not in the role_service_allow`},
		{op, stop, Change{Names: []string{"app-a"}, Stops: []string{"app-b.service"}}, ""},
		{root, start, Change{Names: []string{"x"}, PowerActions: []string{"x: SuccessAction=reboot"}}, "allow_power_actions"},
		{root, stop, Change{Names: []string{"reboot.target"}}, ""},
	} {
		d := p.DecideChange(tc.id, tc.method, tc.c)
		if tc.want == "" && !d.Allowed || tc.want != "" && (d.Allowed || !strings.Contains(d.Reason, tc.want)) {
			t.Errorf("%s %s %+v: allowed %v reason %q, want %q", tc.id.CommonName, tc.method, tc.c, d.Allowed, d.Reason, tc.want)
		}
	}
}
