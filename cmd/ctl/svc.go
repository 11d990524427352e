package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/remotectl/remotectl/client"
	"github.com/remotectl/remotectl/internal/nameglob"
	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
)

// svcHints refine the generic hints for service commands.
func svcHints(name string) map[int]string {
	return map[int]string{
		exitNotFound:     "list services with `ctl svc ls`",
		exitTimeout:      fmt.Sprintf("the service did not reach its target state in time; raise --wait, and check it with `ctl svc get %s`", name),
		exitPrecondition: fmt.Sprintf("the service manager refused in the current state; check it with `ctl svc get %s`", name),
	}
}

func (a *app) newSvcCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "svc",
		Aliases: []string{"service"},
		Short:   "List and control the agent's services (systemd, Windows SCM)",
		Args:    unknownSubcommand,
		RunE:    missingSubcommand,
	}
	cmd.AddCommand(a.newSvcLsCmd(), a.newSvcGetCmd(), a.newSvcWatchCmd())
	cmd.AddCommand(a.newSvcLogsCmd())
	for _, action := range []string{"start", "stop", "restart"} {
		cmd.AddCommand(a.newSvcControlCmd(action))
	}
	cmd.AddCommand(a.newSvcStartTypeCmds()...)
	return cmd
}

func (a *app) newSvcLsCmd() *cobra.Command {
	var (
		glob   string
		states []string
	)
	cmd := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List services",
		Long: `List the agent's services, sorted by name.

Table columns: NAME STATE STARTUP PID DESCRIPTION.
States: ` + stateList + `.
-o json prints one array of service objects (docs/cli.md lists the keys).`,
		Example: `  ctl svc ls --state failed
  ctl svc ls --name 'nginx*' -o json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sts, err := serviceFilter(glob, states)
			if err != nil {
				return err
			}
			req := &pb.ListServicesRequest{NameGlob: glob, States: sts}
			if a.multiHost {
				return a.fleetSvcLs(cmd.Context(), req)
			}
			return a.withClient(func(c *client.Client) error {
				resp, err := c.ListServices(cmd.Context(), req)
				if err != nil {
					return wrapOp("list services", err, nil)
				}
				return a.printServices(resp.GetServices())
			})
		},
	}
	cmd.Flags().StringVar(&glob, "name", "", "only services whose name matches `GLOB` (e.g. 'ssh*')")
	cmd.Flags().StringSliceVar(&states, "state", nil, "only services in these `STATE`s (repeatable or comma list)")
	return cmd
}

func (a *app) printServices(svcs []*pb.Service) error {
	return printList(a, viewsOf(svcs, newServiceView), a.serviceHeader(), a.serviceCells)
}

// serviceHeader is the service table's header; -o wide adds the OS's own
// spellings and the command.
func (a *app) serviceHeader() []string {
	if a.out.wide() {
		return []string{"NAME", "STATE", "NATIVE", "STARTUP", "NATIVE-STARTUP", "PID", "COMMAND", "DESCRIPTION"}
	}
	return []string{"NAME", "STATE", "STARTUP", "PID", "DESCRIPTION"}
}

// serviceCells is one service's table row (also under HOST on many hosts).
func (a *app) serviceCells(v serviceView) []string {
	if a.out.wide() {
		return []string{v.Name, v.State, dash(v.NativeState), v.StartType, dash(v.NativeStartType), pidCell(v.MainPID), dash(v.Command), dash(v.Description)}
	}
	return []string{v.Name, v.State, v.StartType, pidCell(v.MainPID), dash(v.Description)}
}

func (a *app) newSvcGetCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "get NAME",
		Short:   "Show one service in detail",
		Example: "  ctl svc get nginx\n  ctl svc get ssh.service -o json",
		Args:    exactArgs(1, "one service NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if a.multiHost {
				return a.fleetSvcGet(cmd.Context(), name)
			}
			return a.withClient(func(c *client.Client) error {
				s, err := c.GetService(cmd.Context(), name)
				if err != nil {
					return wrapOp("get service "+name, err, svcHints(name))
				}
				v := newServiceView(s)
				if a.out.json() {
					return a.out.JSON(v)
				}
				return a.out.kv(serviceKV(v))
			})
		},
	}
}

func serviceKV(v serviceView) [][2]string {
	pid := "-"
	if v.MainPID > 0 {
		pid = strconv.Itoa(int(v.MainPID))
	}
	withNative := func(portable, native string) string {
		if native == "" || native == portable {
			return portable
		}
		return portable + " (" + native + ")"
	}
	return [][2]string{
		{"name", v.Name},
		{"display name", dash(v.DisplayName)},
		{"description", dash(v.Description)},
		{"state", withNative(v.State, v.NativeState)},
		{"startup", withNative(v.StartType, v.NativeStartType)},
		{"main pid", pid},
		{"command", dash(v.Command)},
		{"dependencies", dash(strings.Join(v.Dependencies, ", "))},
		{"dependents", dash(strings.Join(v.Dependents, ", "))},
	}
}

type controlFunc func(c *client.Client, ctx context.Context, name string, wait time.Duration, opts ...client.ControlOption) (*client.ControlResult, error)

func (a *app) newSvcControlCmd(action string) *cobra.Command {
	var (
		wait     time.Duration
		withDeps bool
	)
	fn := map[string]controlFunc{
		"start": func(c *client.Client, ctx context.Context, name string, wait time.Duration, _ ...client.ControlOption) (*client.ControlResult, error) {
			return c.StartService(ctx, name, wait)
		},
		"stop":    (*client.Client).StopService,
		"restart": (*client.Client).RestartService,
	}[action]
	target := map[string]string{"start": "runs", "stop": "is stopped", "restart": "runs again"}[action]
	cmd := &cobra.Command{
		Use:   action + " NAME",
		Short: strings.ToUpper(action[:1]) + action[1:] + " a service and wait until it " + target,
		Long: fmt.Sprintf(`%s a service and wait until it %s (the agent waits up to --wait).

Prints "NAME: PREVIOUS -> CURRENT", or "NAME: already STATE (no change)" when
nothing had to be done. -o json prints
{"service":{...},"previous_state":"running","changed":true}.`, strings.ToUpper(action[:1])+action[1:], target),
		Example: fmt.Sprintf("  ctl svc %s nginx\n  ctl svc %s nginx.service --wait 2m -o json", action, action),
		Args:    exactArgs(1, "one service NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if wait < 0 {
				return usagef("invalid --wait %s: must not be negative", wait)
			}
			var opts []client.ControlOption
			if withDeps {
				opts = append(opts, client.WithDependents())
			}
			if a.multiHost {
				return a.fleetSvcControl(cmd.Context(), action, name, wait, fn, opts)
			}
			return a.withClient(func(c *client.Client) error {
				r, err := a.controlProgress(cmd.Context(), c, action, name, func(ctx context.Context) (*client.ControlResult, error) {
					return fn(c, ctx, name, wait, opts...)
				})
				if err != nil {
					return wrapOp(action+" service "+name, err, svcHints(name))
				}
				v := newControlView(r)
				if a.out.json() {
					return a.out.JSON(v)
				}
				return a.out.Line(controlLine(v))
			})
		},
	}
	cmd.Flags().DurationVar(&wait, "wait", 0, "how long the agent waits for the target state, "+waitLimits)
	if action != "start" {
		cmd.Flags().BoolVar(&withDeps, "with-dependents", false,
			"stop the running services that depend on it first"+map[string]string{"stop": "", "restart": ", and start them again afterwards"}[action]+
				" (Windows refuses without it when any run; systemd always does it)")
	}
	return cmd
}

// stateList is the help text's list of the states a service may show.
var stateList = strings.Join(append(wireList(serviceStateNames), "unknown"), ", ")

// checkGlob refuses a --name glob the agent would refuse (the one rule,
// internal/nameglob) before any agent is asked.
func checkGlob(glob string) error {
	if err := nameglob.Check(glob); err != nil {
		return usagef("invalid --name glob %q: %v", glob, err)
	}
	return nil
}

// serviceFilter checks the --name and --state flags of svc ls and svc watch
// and returns the states.
func serviceFilter(glob string, states []string) ([]pb.ServiceState, error) {
	if err := checkGlob(glob); err != nil {
		return nil, err
	}
	var out []pb.ServiceState
	for _, s := range states {
		st, ok := parseServiceState(s)
		if !ok {
			return nil, usagef("invalid --state %q: use %s", s, orList(wireList(serviceStateNames)))
		}
		out = append(out, st)
	}
	return out, nil
}

// waitLimits ends the help of every --wait flag; the figures come from the
// agent's contract (server/service through the client), never restated.
var waitLimits = fmt.Sprintf("at most %s (default: the agent's, %s)",
	shortDuration(client.MaxControlWait), shortDuration(client.DefaultControlWait))

// shortDuration drops the zero units time.Duration.String keeps: 10m, not 10m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// controlLine is the one-line outcome of start/stop/restart.
func controlLine(v controlView) string {
	if !v.Changed {
		return fmt.Sprintf("%s: already %s (no change)", clean(v.Service.Name), v.Service.State)
	}
	return fmt.Sprintf("%s: %s -> %s", clean(v.Service.Name), v.PreviousState, v.Service.State)
}

// pidCell is a main PID for tables: "-" when the service has none.
func pidCell(pid int32) string {
	if pid <= 0 {
		return "-"
	}
	return strconv.Itoa(int(pid))
}
