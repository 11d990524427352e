package authz

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/remotectl/remotectl/internal/pki"
)

// Rule says what a method needs. Target-bearing control methods also pass
// the per-service rules.
type Rule struct {
	Permission Permission
	// Mutates marks calls that change the host; they are audited and rate limited.
	Mutates bool
	// StopsService marks calls that stop a service (stop, restart), which
	// the protected-service rule forbids.
	StopsService bool
	// StartsService marks calls that start the target (start, restart),
	// which the power-unit rule judges.
	StartsService bool
}

// Methods is THE table: every gRPC method the agent serves, by full name,
// and what it needs. A method missing here is denied (fail closed).
var Methods = map[string]Rule{
	"/remotectl.v1.ProcessService/ListProcesses":  {Permission: ProcessesRead},
	"/remotectl.v1.ProcessService/WatchProcesses": {Permission: ProcessesWatch},
	"/remotectl.v1.ServiceManager/ListServices":   {Permission: ServicesRead},
	"/remotectl.v1.ServiceManager/GetService":     {Permission: ServicesRead},
	"/remotectl.v1.ServiceManager/StartService":   {Permission: ServicesControl, Mutates: true, StartsService: true},
	"/remotectl.v1.ServiceManager/StopService":    {Permission: ServicesControl, Mutates: true, StopsService: true},
	"/remotectl.v1.ServiceManager/RestartService": {Permission: ServicesControl, Mutates: true, StopsService: true, StartsService: true},
	"/remotectl.v1.ServiceManager/WatchServices":  {Permission: ServicesRead},
	"/remotectl.v1.AgentService/Heartbeat":        {Permission: AgentRead},
	"/remotectl.v1.AgentService/WhoAmI":           {Permission: AgentRead},
	"/remotectl.v1.LogService/ReadLogs":           {Permission: LogsRead},
	"/remotectl.v1.LogService/FollowLogs":         {Permission: LogsRead},
	"/grpc.health.v1.Health/Check":                {Permission: Public},
	"/grpc.health.v1.Health/Watch":                {Permission: Public},
	"/grpc.health.v1.Health/List":                 {Permission: Public},
	// Reflection only describes the (public) API schema.
	"/grpc.reflection.v1.ServerReflection/ServerReflectionInfo":      {Permission: AgentRead},
	"/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo": {Permission: AgentRead},
	// Disabling is stopping at the next boot: protected like a stop.
	"/remotectl.v1.ServiceManager/SetServiceStartType": {Permission: ServicesControl, Mutates: true, StopsService: true},
	// Process names pass protected_processes and role_process_allow.
	"/remotectl.v1.ProcessService/SignalProcess": {Permission: ProcessesControl, Mutates: true},
}

// Decision is the answer to one call.
type Decision struct {
	Allowed bool
	Rule    Rule
	// Reason explains a denial, naming the missing permission or the
	// service rule; it is safe to return to the caller.
	Reason string
	Roles  []string
}

// Decide answers whether id may call method on targets (the service names
// a control call acts on: the requested name and, when known, the
// backend's canonical name; both must pass the service rules).
func (p *Policy) Decide(id pki.Identity, method string, targets ...string) Decision {
	rule, ok := Methods[method]
	if !ok {
		return Decision{Reason: fmt.Sprintf("method %s is not in the authorization table (denied by default)", method)}
	}
	d := Decision{Rule: rule, Roles: p.Roles(id)}
	if rule.Permission == Public {
		d.Allowed = true
		return d
	}
	if !slices.Contains(p.Permissions(id), rule.Permission) {
		d.Reason = fmt.Sprintf("missing permission %s (identity %s has roles %s)", rule.Permission, id, rolesText(d.Roles))
		return d
	}
	switch rule.Permission {
	case ProcessesControl:
		return p.decideTargets(d, targets, p.processTargets())
	case ServicesControl:
		// An unknown canonical name is passed as "".
		named := slices.DeleteFunc(slices.Clone(targets), func(t string) bool { return t == "" })
		return p.decideTargets(d, named, p.serviceTargets(rule.StopsService))
	}
	d.Allowed = true
	return d
}

// targetRules is what Decide checks on each target of one kind: the protected
// globs, the allow-lists that narrow a permission per role, and how
// refusals name them.
type targetRules struct {
	noun          string              // "service"
	protected     []string            // nil: protection does not apply
	protectedRule string              // "protected_services"
	forbidden     string              // what protection forbids
	perm          Permission          // the permission the lists narrow
	lists         map[string][]string // by role
	listRule      string              // "role_service_allow"
}

func (p *Policy) serviceTargets(stops bool) targetRules {
	t := targetRules{noun: "service", protectedRule: "protected_services", forbidden: "stopped, restarted or disabled",
		perm: ServicesControl, lists: p.allow, listRule: "role_service_allow"}
	if stops {
		t.protected = p.protected
	}
	return t
}

// decideTargets refuses the first target that is protected or that no
// allow-list of d's roles admits; d already holds the permission.
func (p *Policy) decideTargets(d Decision, names []string, k targetRules) Decision {
	for _, n := range names {
		if g, hit := matchAny(k.protected, n); hit {
			d.Reason = fmt.Sprintf("%s %q is protected (rule %s %q): it may not be %s remotely", k.noun, n, k.protectedRule, g, k.forbidden)
			return d
		}
		if !p.allowedBy(d.Roles, k.perm, k.lists, n) {
			d.Reason = fmt.Sprintf("missing permission %s for %s %q: not in the %s list of roles %s", k.perm, k.noun, n, k.listRule, rolesText(d.Roles))
			return d
		}
	}
	d.Allowed = true
	return d
}

// controlAllowed: some role granting ServicesControl has no allow-list or
// one matching the service.
func (p *Policy) controlAllowed(roles []string, service string) bool {
	return p.allowedBy(roles, ServicesControl, p.allow, service)
}

// allowedBy: some role granting perm has no list in lists or one whose
// globs match name.
func (p *Policy) allowedBy(roles []string, perm Permission, lists map[string][]string, name string) bool {
	for _, r := range roles {
		if !slices.Contains(p.roles[r], perm) {
			continue
		}
		globs, limited := lists[r]
		if !limited {
			return true
		}
		if _, hit := matchAny(globs, name); hit {
			return true
		}
	}
	return false
}

// matchAny matches case-insensitively (Windows service names ignore case)
// and also without a systemd ".service" suffix, so "sshd*" catches both
// "sshd" and "sshd.service".
func matchAny(globs []string, name string) (string, bool) {
	lname := strings.ToLower(name)
	base := strings.TrimSuffix(lname, ".service")
	for _, g := range globs {
		lg := strings.ToLower(g)
		if ok, _ := path.Match(lg, lname); ok {
			return g, true
		}
		if ok, _ := path.Match(lg, base); ok {
			return g, true
		}
	}
	return "", false
}

func rolesText(roles []string) string {
	if len(roles) == 0 {
		return "none (no binding matches)"
	}
	return strings.Join(roles, ", ")
}
