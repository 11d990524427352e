package authz

import (
	"testing"

	"github.com/remotectl/remotectl/internal/pki"
)

// FuzzDecide: hostile identities, methods and service names never panic,
// never let an unbound identity past agent.read, and never let anyone
// stop a protected service.
func FuzzDecide(f *testing.F) {
	f.Add("alice", "operators", "spiffe://x/ops/a", "/remotectl.v1.ServiceManager/StopService", "nginx.service")
	f.Add("", "", "", "/x", "")
	f.Add("remotectl-admin", "", "", "/remotectl.v1.ServiceManager/StopService", "SSHD.SERVICE")
	f.Add("a\x00", "[", "\xff", "/remotectl.v1.ProcessService/ListProcesses", "[")
	p, err := New(Config{
		Bindings: []Binding{
			{OU: "operators", Role: RoleOperator},
			{URIPrefix: "spiffe://x/ops/", Role: RoleAdmin},
			{CN: pki.DevAdminCommonName, Role: RoleAdmin},
		},
		RoleServiceAllow: map[string][]string{RoleOperator: {"nginx*"}},
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, cn, ou, uri, method, target string) {
		id := pki.Identity{CommonName: cn, OrganizationalUnits: []string{ou}, URIs: []string{uri}}
		d := p.Decide(id, method, target)
		if !d.Allowed {
			if d.Reason == "" {
				t.Fatal("denial without a reason")
			}
			return
		}
		if _, ok := Methods[method]; !ok {
			t.Fatalf("allowed unknown method %q", method)
		}
		if len(d.Roles) == 0 && d.Rule.Permission != AgentRead && d.Rule.Permission != Public {
			t.Fatalf("unbound identity allowed %s", d.Rule.Permission)
		}
		if d.Rule.StopsService {
			if g, hit := matchAny(p.protected, target); hit {
				t.Fatalf("stop of protected %q (rule %q) allowed", target, g)
			}
		}
	})
}
