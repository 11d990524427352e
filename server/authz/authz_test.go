package authz

import (
	"strings"
	"testing"

	"github.com/remotectl/remotectl/internal/pki"
)

const (
	stop  = "/remotectl.v1.ServiceManager/StopService"
	start = "/remotectl.v1.ServiceManager/StartService"
	list  = "/remotectl.v1.ProcessService/ListProcesses"
	hb    = "/remotectl.v1.AgentService/Heartbeat"
	watch = "/remotectl.v1.ProcessService/WatchProcesses"
)

func testPolicy(t *testing.T) *Policy {
	t.Helper()
	p, err := New(Config{
		Bindings: []Binding{
			{CN: "alice", Role: RoleOperator},
			{OU: "viewers", Role: RoleViewer},
			{URIPrefix: "spiffe://x/ops/", Role: RoleAdmin},
			{CN: pki.DevAdminCommonName, Role: RoleAdmin},
		},
		RoleServiceAllow: map[string][]string{RoleOperator: {"nginx*", "remotectl-*"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDecideMatrix(t *testing.T) {
	p := testPolicy(t)
	alice := pki.Identity{CommonName: "alice"}
	viewer := pki.Identity{CommonName: "v", OrganizationalUnits: []string{"viewers"}}
	admin := pki.Identity{CommonName: "x", URIs: []string{"spiffe://x/ops/bob"}}
	nobody := pki.Identity{CommonName: "mallory"}
	cases := []struct {
		name   string
		id     pki.Identity
		method string
		target string
		ok     bool
		reason string
	}{
		{"viewer lists", viewer, list, "", true, ""},
		{"viewer watches", viewer, watch, "", true, ""},
		{"viewer stop", viewer, stop, "nginx.service", false, "missing permission services.control"},
		{"operator stop allowed", alice, stop, "nginx.service", true, ""},
		{"operator stop outside allow-list", alice, stop, "postgresql.service", false, "role_service_allow"},
		{"operator stop protected", alice, stop, "sshd.service", false, "protected"},
		{"operator start protected ok (only stop/restart)", alice, start, "remotectl-x", true, ""},
		{"admin any", admin, stop, "postgresql.service", true, ""},
		{"admin protected", admin, stop, "ctld", false, "protected"},
		{"admin protected case-insensitive", admin, stop, "rpcss", false, "protected"},
		{"admin protected ssh", admin, stop, "ssh.service", false, "protected"},
		{"admin protected systemd", admin, stop, "systemd-journald.service", false, "protected"},
		{"unbound heartbeat", nobody, hb, "", true, ""},
		{"unbound list", nobody, list, "", false, "missing permission processes.read"},
		{"unbound health", pki.Identity{}, "/grpc.health.v1.Health/Check", "", true, ""},
		{"unknown method", admin, "/remotectl.v1.X/Y", "", false, "not in the authorization table"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := p.Decide(c.id, c.method, c.target)
			if d.Allowed != c.ok {
				t.Fatalf("allowed=%v, want %v (reason %q)", d.Allowed, c.ok, d.Reason)
			}
			if !c.ok && !strings.Contains(d.Reason, c.reason) {
				t.Errorf("reason %q does not mention %q", d.Reason, c.reason)
			}
		})
	}
}

func TestDefaultPolicyBindsDevAdminOnly(t *testing.T) {
	p := MustDefault()
	if got := p.Roles(pki.Identity{CommonName: pki.DevAdminCommonName, Issuer: "CN=remotectl dev CA host1"}); len(got) != 1 || got[0] != RoleAdmin {
		t.Fatalf("dev admin roles = %v, want [admin]", got)
	}
	if got := p.Permissions(pki.Identity{CommonName: "someone"}); len(got) != 1 || got[0] != AgentRead {
		t.Fatalf("unbound permissions = %v, want [agent.read]", got)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	for name, c := range map[string]Config{
		"unknown role":       {Bindings: []Binding{{CN: "a", Role: "root"}}},
		"empty binding":      {Bindings: []Binding{{Role: RoleAdmin}}},
		"unknown permission": {Roles: map[string][]Permission{"x": {"services.nuke"}}},
		"bad protected glob": {ProtectedServices: []string{"ssh["}},
		"empty protected":    {ProtectedServices: []string{""}},
		"allow unknown role": {RoleServiceAllow: map[string][]string{"ghost": {"a"}}},
		"allow bad glob":     {RoleServiceAllow: map[string][]string{RoleOperator: {"[a-"}}},
		"empty role name":    {Roles: map[string][]Permission{" ": {AgentRead}}},
	} {
		if _, err := New(c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestCustomRoleAndExplicitEmptyProtected(t *testing.T) {
	p, err := New(Config{
		Roles:             map[string][]Permission{"restarter": {ServicesControl}},
		Bindings:          []Binding{{CN: "r", OU: "ops", Role: "restarter"}},
		ProtectedServices: []string{},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !p.Decide(pki.Identity{CommonName: "r", OrganizationalUnits: []string{"ops"}}, stop, "sshd").Allowed {
		t.Error("explicit empty protected list still protects sshd")
	}
	if p.Decide(pki.Identity{CommonName: "r"}, stop, "x").Allowed {
		t.Error("binding with cn AND ou matched an identity without the OU")
	}
	if p.Decide(pki.Identity{CommonName: "r", OrganizationalUnits: []string{"ops"}}, list).Allowed {
		t.Error("custom role without processes.read may list")
	}
}

func TestAllVerifiedAdminKeepsProtection(t *testing.T) {
	p := AllVerifiedAdmin()
	anyone := pki.Identity{CommonName: "tester"}
	if !p.Decide(anyone, stop, "nginx.service").Allowed {
		t.Fatal("AllVerifiedAdmin denies a verified identity")
	}
	if p.Decide(anyone, stop, "sshd.service").Allowed {
		t.Fatal("AllVerifiedAdmin lets anyone stop a protected service")
	}
}
