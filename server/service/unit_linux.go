package service

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/remotectl/remotectl/internal/errdefs"
)

// Pure systemd knowledge: unit names, state and start-type mappings, and
// decoding of D-Bus property values. No D-Bus I/O here.

const (
	serviceSuffix = ".service"
	unitNameMax   = 255 // UNIT_NAME_MAX, suffix included
)

// otherUnitTypes are the suffixes that make a name a unit that is not a
// service: "foo.socket" is refused rather than turned into "foo.socket.service".
var otherUnitTypes = []string{
	".socket", ".target", ".device", ".mount", ".automount", ".swap",
	".timer", ".path", ".slice", ".scope",
}

// unitName validates a caller's service name and returns the systemd unit
// name: "ssh" means "ssh.service". Templates ("getty@.service") are refused
// because only their instances can be queried or started. Errors wrap
// errdefs.ErrInvalidArgument.
func unitName(name string) (string, error) {
	if err := ValidateName(name); err != nil {
		return "", err
	}
	for _, t := range otherUnitTypes {
		if strings.HasSuffix(name, t) {
			return "", fmt.Errorf("%w: %q is a %s unit, only .service units are managed", errdefs.ErrInvalidArgument, name, t[1:])
		}
	}
	unit := name
	if !strings.HasSuffix(unit, serviceSuffix) {
		unit += serviceSuffix
	}
	if len(unit) > unitNameMax {
		return "", fmt.Errorf("%w: unit name %q is %d bytes long, systemd allows %d", errdefs.ErrInvalidArgument, unit, len(unit), unitNameMax)
	}
	prefix := strings.TrimSuffix(unit, serviceSuffix)
	for i := 0; i < len(prefix); i++ {
		if !validUnitChar(prefix[i]) {
			return "", fmt.Errorf("%w: unit name %q contains %q; systemd allows only [A-Za-z0-9:_.\\@-]", errdefs.ErrInvalidArgument, unit, prefix[i])
		}
	}
	switch at := strings.IndexByte(prefix, '@'); {
	case prefix == "":
		return "", fmt.Errorf("%w: unit name %q has an empty prefix", errdefs.ErrInvalidArgument, unit)
	case at < 0:
	case at == 0 || strings.Count(prefix, "@") > 1:
		return "", fmt.Errorf("%w: unit name %q: '@' must separate a template name from one instance", errdefs.ErrInvalidArgument, unit)
	case at == len(prefix)-1:
		return "", fmt.Errorf("%w: %q is a template unit; name an instance such as %q", errdefs.ErrInvalidArgument, unit, prefix+"name"+serviceSuffix)
	}
	return unit, nil
}

func validUnitChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		strings.IndexByte(":_.\\@-", c) >= 0
}

// listPatterns returns the fnmatch(3) patterns for systemd's own listings.
// When the glob means the same to fnmatch as to path.Match (only unit-name
// characters, '*' and '?'), systemd gets it, as a name and as a display name,
// which spares it computing the enablement state of every unit file;
// otherwise it lists all services and the caller filters.
func listPatterns(glob string) []string {
	if strings.Trim(glob, "*") == "" {
		return allServices
	}
	for i := 0; i < len(glob); i++ {
		if c := glob[i]; c == '\\' || !validUnitChar(c) && c != '*' && c != '?' {
			return allServices
		}
	}
	return []string{glob, glob + serviceSuffix}
}

var allServices = []string{"*" + serviceSuffix}

// isTemplate reports whether unit is a template ("foo@.service").
func isTemplate(unit string) bool { return strings.HasSuffix(unit, "@"+serviceSuffix) }

// templateOf returns "foo@.service" for the instance "foo@bar.service", or "".
func templateOf(unit string) string {
	at := strings.IndexByte(unit, '@')
	if at < 0 || isTemplate(unit) {
		return ""
	}
	return unit[:at+1] + serviceSuffix
}

// displayName is the name without ".service": systemd has no display name of
// its own, and the Description already has its own field.
func displayName(unit string) string { return strings.TrimSuffix(unit, serviceSuffix) }

// stateOf maps a unit's ActiveState. "refreshing" (an active unit whose
// mount namespace is being refreshed) is still running; "maintenance" (being
// cleaned) has no portable equivalent and stays Unknown, NativeState tells.
func stateOf(activeState string) State {
	switch activeState {
	case "active", "refreshing":
		return StateRunning
	case "reloading":
		return StateReloading
	case "inactive":
		return StateStopped
	case "failed":
		return StateFailed
	case "activating":
		return StateStarting
	case "deactivating":
		return StateStopping
	}
	return StateUnknown
}

// nativeState is systemd's wording of a unit's state ("active/running").
func nativeState(activeState, subState string) string { return activeState + "/" + subState }

// startTypeOf maps a UnitFileState. The portable question is "does systemd
// start it by itself?":
//   - enabled, enabled-runtime: pulled in at boot by [Install] links -> Automatic.
//   - disabled, static (no [Install], only started as a dependency or by hand),
//     indirect (enabled through Also= or a template's DefaultInstance),
//     linked, linked-runtime, generated (generator output), transient
//     (created at runtime over D-Bus) -> Manual: none of them is started by
//     its own [Install] section.
//   - masked, masked-runtime: cannot be started at all -> Disabled.
//   - alias (a name of another unit; its start type is the target's),
//     bad (unparseable), "" (no unit file) -> Unknown.
func startTypeOf(unitFileState string) StartType {
	switch unitFileState {
	case "enabled", "enabled-runtime":
		return StartTypeAutomatic
	case "disabled", "static", "indirect", "linked", "linked-runtime", "generated", "transient":
		return StartTypeManual
	case "masked", "masked-runtime":
		return StartTypeDisabled
	}
	return StartTypeUnknown
}

// Property decoding. go-systemd returns the variant values as godbus decodes
// them: "s" string, "as" []string, "u" uint32, "a(sasbttttuii)" [][]any.

func propString(props map[string]any, key string) string {
	s, _ := props[key].(string)
	return s
}

func propStrings(props map[string]any, key string) []string {
	s, _ := props[key].([]string)
	return s
}

func propUint32(props map[string]any, key string) uint32 {
	u, _ := props[key].(uint32)
	return u
}

// execCommand renders ExecStart (a(sasbttttuii): path, argv, ignore-failure,
// timestamps, pid, code, status) as one command line per entry, joined with
// "; " for the rare units with several (Type=oneshot). The path replaces
// argv[0], which systemd keeps as written in the unit file.
func execCommand(v any) string {
	entries, _ := v.([][]any)
	var cmds []string
	for _, e := range entries {
		if len(e) < 2 {
			continue
		}
		p, _ := e[0].(string)
		argv, _ := e[1].([]string)
		if p == "" {
			continue
		}
		words := []string{quoteArg(p)}
		for i := 1; i < len(argv); i++ {
			words = append(words, quoteArg(argv[i]))
		}
		cmds = append(cmds, strings.Join(words, " "))
	}
	return strings.Join(cmds, "; ")
}

// quoteArg quotes a word only when it would not survive a split on spaces.
func quoteArg(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n\"'\\;") {
		return s
	}
	return strconv.Quote(s)
}

// serviceUnits keeps the .service names of several dependency lists, sorted
// and without duplicates. Other unit types (targets, sockets, slices) are left
// out so that every name can be given back to Get or Start.
func serviceUnits(lists ...[]string) []string {
	seen := map[string]bool{}
	var out []string
	for _, l := range lists {
		for _, u := range l {
			if strings.HasSuffix(u, serviceSuffix) && !seen[u] {
				seen[u] = true
				out = append(out, u)
			}
		}
	}
	sort.Strings(out)
	return out
}
