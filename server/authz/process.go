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

func (p *Policy) processTargets() targetRules {
	return targetRules{noun: "process", protected: p.protectedProcs, protectedRule: "protected_processes", forbidden: "signalled",
		perm: ProcessesControl, lists: p.procAllow, listRule: "role_process_allow"}
}

// ProtectedService returns the protected_services glob that matches name.
func (p *Policy) ProtectedService(name string) (string, bool) { return matchAny(p.protected, name) }

// ProtectedProcesses returns the protected-process globs.
func (p *Policy) ProtectedProcesses() []string { return slices.Clone(p.protectedProcs) }
