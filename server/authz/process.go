package authz

import (
	"fmt"
	"slices"
)

// Process rules: the counterpart of the service rules for SignalProcess.
// Targets are process names; the built-in host rules (pid 1, kernel
// threads, ctld itself, protected services' main processes) are host facts
// the caller checks before asking Decide.

func (p *Policy) processRules(c Config) error {
	p.protectedProcs, p.procAllow = c.ProtectedProcesses, map[string][]string{}
	if p.protectedProcs == nil {
		p.protectedProcs = DefaultProtectedProcesses
	}
	if err := validGlobs("protected_processes", p.protectedProcs); err != nil {
		return err
	}
	for role, globs := range c.RoleProcessAllow {
		if _, ok := p.roles[role]; !ok {
			return fmt.Errorf("authz: role_process_allow: unknown role %q", role)
		}
		if err := validGlobs("role_process_allow."+role, globs); err != nil {
			return err
		}
		p.procAllow[role] = globs
	}
	return nil
}

// decideProcess applies protected_processes and role_process_allow to the
// target names; d already holds the permission.
func (p *Policy) decideProcess(d Decision, names []string) Decision {
	for _, n := range names {
		if g, hit := matchAny(p.protectedProcs, n); hit {
			d.Reason = fmt.Sprintf("process %q is protected (rule protected_processes %q): it may not be signalled remotely", n, g)
			return d
		}
		if !p.processAllowed(d.Roles, n) {
			d.Reason = fmt.Sprintf("missing permission %s for process %q: not in the role_process_allow list of roles %s", ProcessesControl, n, rolesText(d.Roles))
			return d
		}
	}
	d.Allowed = true
	return d
}

// processAllowed: some role granting ProcessesControl has no
// role_process_allow list or one matching the name.
func (p *Policy) processAllowed(roles []string, name string) bool {
	return p.allowedBy(roles, ProcessesControl, p.procAllow, name)
}

// ProtectedService returns the protected_services glob that matches name.
func (p *Policy) ProtectedService(name string) (string, bool) { return matchAny(p.protected, name) }

// ProtectedProcesses returns the protected-process globs.
func (p *Policy) ProtectedProcesses() []string { return slices.Clone(p.protectedProcs) }
