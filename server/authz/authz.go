// Package authz decides who may call what: identities (from verified client
// certificates) are bound to roles, roles grant permissions, and per-service
// rules narrow what a role may control. It is pure logic: the gRPC
// interceptor in package server asks Decide and acts on the answer.
package authz

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/remotectl/remotectl/internal/pki"
)

// Permission names one kind of access.
type Permission string

// The permissions. Health needs none; every authenticated identity holds
// AgentRead (heartbeat, whoami, reflection).
const (
	ProcessesRead   Permission = "processes.read"
	ProcessesWatch  Permission = "processes.watch"
	ServicesRead    Permission = "services.read"
	ServicesControl Permission = "services.control"
	AgentRead       Permission = "agent.read"
	// ProcessesArgv shows processes' argv and executable path, which may
	// hold secrets (passwords on command lines) and paths a local user
	// could not read; without it those fields are left empty.
	ProcessesArgv Permission = "processes.argv"
	// ProcessesControl signals and ends processes (SignalProcess).
	ProcessesControl Permission = "processes.control"
	// LogsRead reads and follows logs (files, journal, Event Log) on the
	// agent's and the role's log allow-lists.
	LogsRead Permission = "logs.read"
	// Public marks methods anyone connected may call (grpc health).
	Public Permission = "public"
)

// AllPermissions lists every grantable permission.
var AllPermissions = []Permission{ProcessesRead, ProcessesWatch, ServicesRead, ServicesControl, AgentRead, ProcessesArgv, LogsRead, ProcessesControl}

// Built-in role names.
const (
	RoleViewer   = "viewer"
	RoleOperator = "operator"
	RoleAdmin    = "admin"
)

// Binding maps identities to a role. Every non-empty matcher must match
// (AND); a binding with no matcher is invalid.
type Binding struct {
	CN        string `yaml:"cn"`
	OU        string `yaml:"ou"`
	URIPrefix string `yaml:"uri_prefix"`
	DNS       string `yaml:"dns"`
	// Issuer is a glob over the issuing CA's subject DN ("CN=Corp Ops CA*"):
	// with a CA bundle of several CAs, it keeps one CA from minting
	// identities that only another may vouch for. It does not match alone.
	Issuer string `yaml:"issuer"`
	Role   string `yaml:"role"`
}

// Config is the authorization part of ctld's configuration.
type Config struct {
	// Roles maps a role name to its permissions; the built-in roles are
	// present unless redefined here.
	Roles map[string][]Permission `yaml:"roles"`
	// Bindings map identities to roles; an identity gets every matching role.
	Bindings []Binding `yaml:"bindings"`
	// ProtectedServices are globs of services nobody may stop or restart
	// remotely, admins included. Nil means DefaultProtectedServices; an
	// explicit empty list protects nothing.
	ProtectedServices []string `yaml:"protected_services"`
	// RoleServiceAllow optionally restricts the services a role may
	// control to these globs. A role without an entry may control any
	// (non-protected) service.
	RoleServiceAllow map[string][]string `yaml:"role_service_allow"`
	// PowerUnits are globs of services nobody may start remotely (they
	// power the host off, reboot it, ...). Nil means DefaultPowerUnits; an
	// explicit empty list refuses none by name.
	PowerUnits []string `yaml:"power_units"`
	// AllowPowerActions permits starting units whose start or failure
	// triggers a host power action (SuccessAction=poweroff, ...).
	AllowPowerActions bool `yaml:"allow_power_actions"`
	// ProtectedProcesses are globs of process names nobody may signal
	// remotely. Nil means DefaultProtectedProcesses; an explicit empty list
	// adds none to the built-in rules (pid 1, kernel threads, ctld, ...).
	ProtectedProcesses []string `yaml:"protected_processes"`
	// RoleProcessAllow optionally restricts the processes a role may
	// signal to these name globs. A role without an entry may signal any
	// (non-protected) process.
	RoleProcessAllow map[string][]string `yaml:"role_process_allow"`
	// RoleLogsAllow optionally restricts the log sources a role may read
	// to these entries (the syntax of ctld's logs.allow). A role without
	// an entry reads whatever the agent's allow-list serves.
	RoleLogsAllow map[string][]string `yaml:"role_logs_allow"`
}

// DefaultProtectedProcesses keep the agent, init and the host's lifelines
// (remote login, IPC bus, Windows session and security processes) out of
// reach of a remote signal. Matched case-insensitively against the name.
var DefaultProtectedProcesses = []string{"ctld*", "init", "systemd", "sshd", "sshd-session", "dbus-daemon", "dbus-broker*",
	"csrss.exe", "wininit.exe", "winlogon.exe", "services.exe", "lsass.exe", "smss.exe", "svchost.exe"}

// DefaultProtectedServices keep the agent itself and the host's lifelines
// (remote login, IPC bus, RPC, init) out of reach of a remote stop.
var DefaultProtectedServices = []string{"ctld*", "remotectl-agent*", "sshd*", "ssh", "ssh.*", "ssh@*", "dbus*", "RpcSs", "RpcEptMapper", "DcomLaunch", "TermService", "systemd-*", "init.scope", "-.slice"}

// DefaultBindings: with zero configuration only the dev PKI's admin client
// (CN remotectl-admin issued by a dev CA, "remotectl dev CA <host>") is
// bound, to admin, so a first run works as before, while another CA added
// to the bundle cannot mint that admin. Any configured bindings replace
// this list.
var DefaultBindings = []Binding{{CN: pki.DevAdminCommonName, Issuer: DevCAIssuer, Role: RoleAdmin}}

// DevCAIssuer matches the subject of the CAs EnsureDevPKI creates.
const DevCAIssuer = "CN=" + pki.DevCAName + " *"

// DefaultRoles are the built-in roles.
func DefaultRoles() map[string][]Permission {
	viewer := []Permission{ProcessesRead, ProcessesWatch, ServicesRead, AgentRead}
	return map[string][]Permission{
		RoleViewer:   viewer,
		RoleOperator: append(slices.Clone(viewer), ServicesControl, ProcessesArgv, LogsRead, ProcessesControl),
		RoleAdmin:    slices.Clone(AllPermissions),
	}
}

// Policy is a validated Config, ready for Decide. It is immutable.
type Policy struct {
	roles     map[string][]Permission
	bindings  []Binding
	protected []string
	allow     map[string][]string
	power     []string
	// allowPowerActions permits units with SuccessAction= and the like.
	allowPowerActions bool
	logsAllow         map[string][]string
	// protectedProcs and procAllow are the process counterparts.
	protectedProcs []string
	procAllow      map[string][]string
	// everyone is a role every identity holds (AllVerifiedAdmin only).
	everyone string
}

// New validates c and fills in the defaults.
func New(c Config) (*Policy, error) {
	p := &Policy{roles: DefaultRoles(), bindings: c.Bindings, protected: c.ProtectedServices, allow: map[string][]string{}}
	for name, perms := range c.Roles {
		if strings.TrimSpace(name) == "" {
			return nil, fmt.Errorf("authz: empty role name")
		}
		for _, perm := range perms {
			if !slices.Contains(AllPermissions, perm) {
				return nil, fmt.Errorf("authz: role %q: unknown permission %q (known: %v)", name, perm, AllPermissions)
			}
		}
		p.roles[name] = slices.Clone(perms)
	}
	if p.bindings == nil {
		p.bindings = DefaultBindings
	}
	for i, b := range p.bindings {
		if b.CN == "" && b.OU == "" && b.URIPrefix == "" && b.DNS == "" {
			return nil, fmt.Errorf("authz: binding %d (role %q) matches nothing: set cn, ou, uri_prefix or dns", i+1, b.Role)
		}
		if _, ok := p.roles[b.Role]; !ok {
			return nil, fmt.Errorf("authz: binding %d: unknown role %q", i+1, b.Role)
		}
		if _, err := path.Match(b.Issuer, ""); err != nil {
			return nil, fmt.Errorf("authz: binding %d: issuer pattern %q: %w", i+1, b.Issuer, err)
		}
	}
	if p.protected == nil {
		p.protected = DefaultProtectedServices
	}
	p.power, p.allowPowerActions = c.PowerUnits, c.AllowPowerActions
	if p.power == nil {
		p.power = DefaultPowerUnits
	}
	if err := validGlobs("power_units", p.power); err != nil {
		return nil, err
	}
	if err := validGlobs("protected_services", p.protected); err != nil {
		return nil, err
	}
	for role, globs := range c.RoleServiceAllow {
		if _, ok := p.roles[role]; !ok {
			return nil, fmt.Errorf("authz: role_service_allow: unknown role %q", role)
		}
		if err := validGlobs("role_service_allow."+role, globs); err != nil {
			return nil, err
		}
		p.allow[role] = globs
	}
	if err := p.setLogsAllow(c.RoleLogsAllow); err != nil {
		return nil, err
	}
	if err := p.processRules(c); err != nil {
		return nil, err
	}
	return p, nil
}

// AllVerifiedAdmin is the policy of an embedded server given no policy:
// every identity that passed TLS verification is admin (protected services
// still apply). It keeps library users and tests that predate
// authorization working; ctld itself always builds its policy with New.
func AllVerifiedAdmin() *Policy {
	p := MustDefault()
	p.everyone = RoleAdmin
	return p
}

// MustDefault returns the zero-configuration policy.
func MustDefault() *Policy {
	p, err := New(Config{})
	if err != nil {
		panic(err)
	}
	return p
}

func validGlobs(field string, globs []string) error {
	for _, g := range globs {
		if g == "" {
			return fmt.Errorf("authz: %s: empty pattern", field)
		}
		if _, err := path.Match(g, ""); err != nil {
			return fmt.Errorf("authz: %s: pattern %q: %w", field, g, err)
		}
	}
	return nil
}

// Roles returns the roles bound to id, sorted.
func (p *Policy) Roles(id pki.Identity) []string {
	var roles []string
	if p.everyone != "" {
		roles = append(roles, p.everyone)
	}
	for _, b := range p.bindings {
		if b.matches(id) && !slices.Contains(roles, b.Role) {
			roles = append(roles, b.Role)
		}
	}
	slices.Sort(roles)
	return roles
}

// Permissions returns what id holds: AgentRead for any identity plus the
// permissions of its roles, sorted.
func (p *Policy) Permissions(id pki.Identity) []Permission {
	perms := []Permission{AgentRead}
	for _, r := range p.Roles(id) {
		for _, perm := range p.roles[r] {
			if !slices.Contains(perms, perm) {
				perms = append(perms, perm)
			}
		}
	}
	slices.Sort(perms)
	return perms
}

func (b Binding) matches(id pki.Identity) bool {
	if b.CN != "" && b.CN != id.CommonName {
		return false
	}
	if b.OU != "" && !slices.Contains(id.OrganizationalUnits, b.OU) {
		return false
	}
	if b.URIPrefix != "" && !slices.ContainsFunc(id.URIs, func(u string) bool { return strings.HasPrefix(u, b.URIPrefix) }) {
		return false
	}
	if b.DNS != "" && !slices.Contains(id.DNSNames, b.DNS) {
		return false
	}
	if b.Issuer != "" {
		if ok, _ := path.Match(b.Issuer, id.Issuer); !ok {
			return false
		}
	}
	return true
}

// WithBinding returns a copy of p with one more binding.
func (p *Policy) WithBinding(b Binding) *Policy {
	q := *p
	q.bindings = append(slices.Clone(p.bindings), b)
	return &q
}

// Has reports whether id holds perm.
func (p *Policy) Has(id pki.Identity, perm Permission) bool {
	return slices.Contains(p.Permissions(id), perm)
}

// ProtectedServices returns the protected-service globs.
func (p *Policy) ProtectedServices() []string { return slices.Clone(p.protected) }

// ServiceAllowLists returns the allow-lists of the given roles.
func (p *Policy) ServiceAllowLists(roles []string) map[string][]string {
	out := map[string][]string{}
	for _, r := range roles {
		if g, ok := p.allow[r]; ok {
			out[r] = slices.Clone(g)
		}
	}
	return out
}
