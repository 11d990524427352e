package authz

import (
	"fmt"
	"slices"
	"strings"

	"github.com/remotectl/remotectl/internal/pki"
)

// DefaultPowerUnits are services nobody may start remotely unless the
// configuration lists power_units itself: starting them powers the host off,
// reboots, halts, kexecs, suspends or isolates it into rescue mode. Units
// whose start or failure triggers such an action (SuccessAction=,
// FailureAction=, ...) are refused as well, whatever their name.
var DefaultPowerUnits = []string{
	"systemd-poweroff*", "systemd-reboot*", "systemd-halt*", "systemd-kexec*", "systemd-soft-reboot*",
	"systemd-suspend*", "systemd-hibernate*", "systemd-hybrid-sleep*",
	"poweroff.target", "reboot.target", "halt.target", "kexec.target", "soft-reboot.target",
	"shutdown.target", "ctrl-alt-del.target", "sleep.target", "suspend*.target", "hibernate.target",
	"hybrid-sleep.target", "rescue*", "emergency*",
}

// Change is everything a service change would touch, as the backend
// resolved it before acting (see service.Impact).
type Change struct {
	// Names are the target as requested and as the backend spells it.
	Names []string
	// Stops, Restarts and Starts are the other services the change acts on.
	Stops, Restarts, Starts []string
	// PowerActions name units whose start triggers a host power action.
	PowerActions []string
}

// DecideChange answers whether id may make a service change: the method
// rules and the target's service rules (Decide), then the protected-service
// rule for every service the change would stop or restart, the allow-list for
// every service it stops or restarts, and the power rule for everything it
// starts. Denials name the service and the rule.
func (p *Policy) DecideChange(id pki.Identity, method string, c Change) Decision {
	d := p.Decide(id, method, c.Names...)
	if !d.Allowed {
		return d
	}
	deny := func(format string, args ...any) Decision {
		d.Allowed, d.Reason = false, fmt.Sprintf(format, args...)
		return d
	}
	target := first(c.Names)
	for _, l := range []struct {
		verb  string
		names []string
	}{{"stop", c.Stops}, {"restart", c.Restarts}} {
		for _, n := range l.names {
			if g, hit := matchAny(p.protected, n); hit {
				return deny("changing %q would %s the protected service %q (rule protected_services %q); refused", target, l.verb, n, g)
			}
			if !p.controlAllowed(d.Roles, n) {
				return deny("changing %q would %s %q, which is not in the role_service_allow list of roles %s", target, l.verb, n, rolesText(d.Roles))
			}
		}
	}
	starts := c.Starts
	if d.Rule.StartsService {
		starts = append(slices.Clone(c.Names), starts...)
	}
	for _, n := range starts {
		if g, hit := matchAny(p.power, n); hit {
			return deny("starting %q is refused: it powers off, reboots, suspends or isolates the host (rule power_units %q)", n, g)
		}
	}
	if len(c.PowerActions) > 0 && !p.allowPowerActions {
		return deny("starting %q is refused: it would trigger a host power action (%s); set authz.allow_power_actions to permit it", target, strings.Join(c.PowerActions, "; "))
	}
	d.Allowed = true
	return d
}

func first(l []string) string {
	if len(l) == 0 {
		return ""
	}
	return l[0]
}
