package authz

import (
	"fmt"
	"slices"

	"github.com/remotectl/remotectl/server/logs"
)

func (p *Policy) setLogsAllow(lists map[string][]string) error {
	p.logsAllow = map[string][]string{}
	for role, list := range lists {
		if _, ok := p.roles[role]; !ok {
			return fmt.Errorf("authz: role_logs_allow: unknown role %q", role)
		}
		if err := logs.ValidateAllowList("authz: role_logs_allow."+role, list); err != nil {
			return err
		}
		p.logsAllow[role] = slices.Clone(list)
	}
	return nil
}

// LogsAllowLists returns the log allow-lists that bind the given roles: nil
// when some role granting LogsRead has none (it reads whatever the agent
// serves), else each LogsRead role's list (a source must be on one).
func (p *Policy) LogsAllowLists(roles []string) map[string][]string {
	out := map[string][]string{}
	for _, r := range roles {
		if !slices.Contains(p.roles[r], LogsRead) {
			continue
		}
		list, limited := p.logsAllow[r]
		if !limited {
			return nil
		}
		out[r] = slices.Clone(list)
	}
	return out
}
