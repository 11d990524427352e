package main

import (
	"strings"
	"testing"

	"github.com/remotectl/remotectl/internal/pki"
	"github.com/remotectl/remotectl/server/authz"
)

func TestAuthzConfigFromYAML(t *testing.T) {
	file := writeConfig(t, `
authz:
  roles:
    restarter: [services.control, agent.read]
  bindings:
    - {cn: alice, role: operator}
    - {ou: operators, role: operator}
    - {uri_prefix: "spiffe://x/ops/", role: admin}
  protected_services: ["ctld*", "sshd*"]
  role_service_allow:
    operator: ["nginx*", "remotectl-*"]
audit:
  file: "-"
limits:
  mutations_per_second: 5
  mutation_burst: 20
  streams_per_identity: 4
tls:
  revoked_serials: ["0A:1B", "ff"]
`)
	c, err := load(t, "--config", file)
	if err != nil {
		t.Fatal(err)
	}
	p, err := authz.New(c.Authz)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Roles(pki.Identity{CommonName: "bob", OrganizationalUnits: []string{"operators"}}); len(got) != 1 || got[0] != "operator" {
		t.Errorf("OU binding: %v", got)
	}
	if p.Roles(pki.Identity{CommonName: pki.DevAdminCommonName}) != nil {
		t.Error("configured bindings must replace the default dev-admin binding")
	}
	if c.Audit.File != "-" || c.Limits.StreamsPerIdentity != 4 || c.Limits.MutationsPerSecond != 5 || len(c.TLS.RevokedSerials) != 2 {
		t.Errorf("config: %+v", c)
	}
}

func TestBadAuthzConfigRefused(t *testing.T) {
	for name, body := range map[string]string{
		"unknown role":       "authz:\n  bindings: [{cn: a, role: root}]\n",
		"empty binding":      "authz:\n  bindings: [{role: admin}]\n",
		"bad glob":           "authz:\n  protected_services: ['ssh[']\n",
		"unknown permission": "authz:\n  roles: {x: [everything]}\n",
		"typo key":           "authz:\n  bindngs: []\n",
		"bad serial":         "tls:\n  revoked_serials: [xyz]\n",
		"negative limit":     "limits:\n  mutation_burst: -1\n",
		"tiny reload":        "tls:\n  reload_interval: 1ms\n",
	} {
		_, err := load(t, "--config", writeConfig(t, body))
		if err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.TrimSpace(err.Error()) == "" {
			t.Errorf("%s: empty error", name)
		}
	}
}
