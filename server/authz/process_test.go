package authz

import (
	"slices"
	"strings"
	"testing"

	"github.com/remotectl/remotectl/internal/pki"
)

const signalMethod = "/remotectl.v1.ProcessService/SignalProcess"

func TestProcessesControlRoleDefaults(t *testing.T) {
	roles := DefaultRoles()
	for role, want := range map[string]bool{RoleViewer: false, RoleOperator: true, RoleAdmin: true} {
		if got := slices.Contains(roles[role], ProcessesControl); got != want {
			t.Errorf("role %s holds processes.control = %v, want %v", role, got, want)
		}
	}
	if r := Methods[signalMethod]; r.Permission != ProcessesControl || !r.Mutates {
		t.Errorf("SignalProcess rule %+v", r)
	}
	if r := Methods["/remotectl.v1.ServiceManager/SetServiceStartType"]; r.Permission != ServicesControl || !r.Mutates || !r.StopsService {
		t.Errorf("SetServiceStartType rule %+v", r)
	}
}

func TestProcessRulesConfigValidation(t *testing.T) {
	for name, c := range map[string]Config{
		"bad protected glob": {ProtectedProcesses: []string{"x["}},
		"empty protected":    {ProtectedProcesses: []string{""}},
		"unknown role":       {RoleProcessAllow: map[string][]string{"root": {"*"}}},
		"bad allow glob":     {RoleProcessAllow: map[string][]string{RoleOperator: {"[a"}}},
	} {
		if _, err := New(c); err == nil || !strings.Contains(err.Error(), "process") {
			t.Errorf("%s: %v; want an error naming the process setting", name, err)
		}
	}
}

func TestDecideProcess(t *testing.T) {
	op := pki.Identity{CommonName: "olga", OrganizationalUnits: []string{"ops"}}
	both := pki.Identity{CommonName: "bo", OrganizationalUnits: []string{"ops", "admins"}}
	viewer := pki.Identity{CommonName: "vic", OrganizationalUnits: []string{"view"}}
	bindings := []Binding{{OU: "ops", Role: RoleOperator}, {OU: "admins", Role: RoleAdmin}, {OU: "view", Role: RoleViewer}}
	p, err := New(Config{Bindings: bindings, RoleProcessAllow: map[string][]string{RoleOperator: {"worker*"}}})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		id   pki.Identity
		name string
		want string // "" = allowed
	}{
		{op, "worker-3", ""},
		{op, "WORKER-3", ""}, // globs ignore case, like the service rules
		{op, "postgres", "role_process_allow"},
		{both, "postgres", ""}, // admin has no allow-list
		{both, "sshd", `rule protected_processes "sshd"`},
		{op, "ctld", `rule protected_processes "ctld*"`},
		{both, "lsass.exe", "protected"},
		{viewer, "worker-1", "missing permission processes.control"},
	}
	for _, c := range cases {
		d := p.Decide(c.id, signalMethod, c.name)
		if c.want == "" && !d.Allowed || c.want != "" && (d.Allowed || !strings.Contains(d.Reason, c.want)) {
			t.Errorf("%s -> %s: %+v; want %q", c.id.CommonName, c.name, d, c.want)
		}
	}
	// An explicit empty list adds no name rule.
	open, err := New(Config{Bindings: bindings, ProtectedProcesses: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	if d := open.Decide(both, signalMethod, "sshd"); !d.Allowed {
		t.Errorf("empty protected_processes still protects sshd: %s", d.Reason)
	}
}
