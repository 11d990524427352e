package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/remotectl/remotectl/client"
	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
)

// parseStartType is the inverse of startTypeName for set-start-type.
func parseStartType(s string) (pb.ServiceStartType, bool) {
	return keyOf(startTypeNames, strings.ToLower(strings.TrimSpace(s)))
}

// keyOf inverts an enum spelling table.
func keyOf[K comparable](names map[K]string, name string) (K, bool) {
	for k, n := range names {
		if n == name {
			return k, true
		}
	}
	var zero K
	return zero, false
}

// startTypeList is the help text's list of start types.
func startTypeList() string { return strings.Join(sortedValues(startTypeNames), ", ") }

// startTypeView is the result of svc enable|disable|set-start-type.
type startTypeView struct {
	Service                 serviceView `json:"service"`
	PreviousStartType       string      `json:"previous_start_type"`
	PreviousNativeStartType string      `json:"previous_native_start_type,omitempty"`
	PreviousState           string      `json:"previous_state"`
	Changed                 bool        `json:"changed"`
}

func newStartTypeView(r *pb.SetServiceStartTypeResponse) startTypeView {
	return startTypeView{Service: newServiceView(r.GetService()), PreviousStartType: startTypeName(r.GetPreviousStartType()),
		PreviousNativeStartType: r.GetPreviousNativeStartType(), PreviousState: serviceStateName(r.GetPreviousState()), Changed: r.GetChanged()}
}

// startTypeLine: "nginx.service: startup automatic (enabled) -> manual
// (disabled); running -> stopped".
func startTypeLine(v startTypeView, now bool) string {
	native := func(portable, n string) string {
		if n == "" || n == portable {
			return portable
		}
		return portable + " (" + n + ")"
	}
	line := fmt.Sprintf("%s: startup %s -> %s", clean(v.Service.Name), native(v.PreviousStartType, v.PreviousNativeStartType),
		native(v.Service.StartType, v.Service.NativeStartType))
	if !v.Changed {
		line = fmt.Sprintf("%s: startup already %s (no change)", clean(v.Service.Name), native(v.Service.StartType, v.Service.NativeStartType))
	}
	if now && v.PreviousState != v.Service.State {
		line += fmt.Sprintf("; %s -> %s", v.PreviousState, v.Service.State)
	}
	return line
}

func (a *app) newSvcStartTypeCmds() []*cobra.Command {
	return []*cobra.Command{
		a.startTypeCmd("enable NAME", "Start a service at boot (systemd: enable; Windows: automatic)",
			`Make the service manager start the service at boot: systemd enables the
unit file (EnableUnitFiles and a daemon reload, as systemctl enable); the
Windows SCM sets the start type to automatic. --now also starts it.`,
			pb.ServiceStartType_SERVICE_START_TYPE_AUTOMATIC, 1),
		a.startTypeCmd("disable NAME", "Do not start a service at boot (systemd: disable; Windows: disabled)",
			`Keep the service manager from starting the service at boot: systemd
disables the unit file (DisableUnitFiles and a daemon reload, as systemctl
disable; it still starts by hand or as a dependency, and reads back as
manual (disabled)); the Windows SCM sets the start type to disabled.
--now also stops it. Protected services cannot be disabled (exit 4).`,
			pb.ServiceStartType_SERVICE_START_TYPE_DISABLED, 1),
		a.startTypeCmd("set-start-type NAME TYPE", "Set a service's start type: "+startTypeList(),
			`Set when the service manager starts a service by itself. TYPE is one of
`+startTypeList()+`. systemd: automatic enables the unit file,
manual and disabled both disable it (ctld never masks or unmasks; a masked
unit is refused with exit 7), automatic_delayed is Windows only. --now also
starts (automatic*) or stops (manual, disabled) the service.`,
			pb.ServiceStartType_SERVICE_START_TYPE_UNSPECIFIED, 2),
	}
}

// startTypeCmd builds one start-type command; fixed is its start type, or
// UNSPECIFIED when it is the second argument.
func (a *app) startTypeCmd(use, short, long string, fixed pb.ServiceStartType, nargs int) *cobra.Command {
	var (
		now  bool
		wait time.Duration
	)
	verb := strings.Fields(use)[0]
	what := map[int]string{1: "one service NAME", 2: "a service NAME and a start TYPE"}[nargs]
	cmd := &cobra.Command{
		Use:     use,
		Short:   short,
		Long:    long + "\n\nPrints \"NAME: startup OLD -> NEW\"; -o json prints {\"service\":{...},\n\"previous_start_type\":...,\"previous_state\":...,\"changed\":true}.",
		Example: fmt.Sprintf("  ctl svc %s nginx%s --now", verb, map[int]string{1: "", 2: " manual"}[nargs]),
		Args:    exactArgs(nargs, what),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, t := args[0], fixed
			if nargs == 2 {
				var ok bool
				if t, ok = parseStartType(args[1]); !ok {
					return usagef("invalid start type %q: use %s", args[1], startTypeList())
				}
			}
			if wait < 0 {
				return usagef("invalid --wait %s: must not be negative", wait)
			}
			return a.withClient(func(c *client.Client) error {
				r, err := c.SetServiceStartType(cmd.Context(), name, t, now, wait)
				if err != nil {
					return wrapOp(verb+" service "+name, err, svcHints(name))
				}
				v := newStartTypeView(r)
				if a.out.json() {
					return a.out.JSON(v)
				}
				return a.out.Line(startTypeLine(v, now))
			})
		},
	}
	cmd.Flags().BoolVar(&now, "now", false, "also start (automatic) or stop (manual, disabled) the service now")
	cmd.Flags().DurationVar(&wait, "wait", 0, "with --now: how long the agent waits, "+waitLimits)
	return cmd
}
