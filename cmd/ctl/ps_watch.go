package main

import (
	"context"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/remotectl/remotectl/client"
	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
)

// eventView is one line of `ctl ps watch -o json` (NDJSON).
type eventView struct {
	eventHead
	Process *processView `json:"process,omitempty"`
	// EXEC: the program before.
	OldName *string  `json:"old_name,omitempty"`
	OldExe  *string  `json:"old_exe,omitempty"`
	OldArgs []string `json:"old_args,omitempty"`
	// EXITED: exit code or killing signal, when the agent knows it.
	ExitCode   *int32 `json:"exit_code,omitempty"`
	ExitSignal *int32 `json:"exit_signal,omitempty"`
}

func newEventView(e *pb.ProcessEvent, fields fieldSet) eventView {
	v := eventView{eventHead: newEventHead(e, eventTypeName(e.GetType())), ExitCode: e.ExitCode, ExitSignal: e.ExitSignal}
	if e.GetProcess() != nil {
		pv := newProcessView(e.GetProcess(), fields)
		v.Process = &pv
	}
	if e.GetType() == pb.ProcessEventType_PROCESS_EVENT_TYPE_EXEC {
		v.OldName, v.OldArgs = new(e.GetOldName()), e.GetOldArgs()
		if e.GetOldExe() != "" {
			v.OldExe = new(e.GetOldExe())
		}
	}
	return v
}

func (a *app) newPsWatchCmd() *cobra.Command {
	var (
		pf       procFlags
		existing bool
	)
	cmd := &cobra.Command{
		Use:   "watch",
		Short: "Stream process start and exit events until interrupted",
		Long: `Stream process events from the agent, one line per event, until Ctrl-C
(exit 0) or a stream error (non-zero exit code).

Table columns: TIME TYPE PID PPID USER NAME COMMAND. Types: STARTED, EXEC
(the process now runs another program; COMMAND ends with "(was OLDNAME)"),
EXITED (COMMAND ends with "(exit N)" or "(signal N)" when the agent knows),
and with --existing first EXISTING for each current process, then SYNCED.
Filters match the program a process runs now; EXEC reaches a watch on the
old or the new name.
The watch survives disconnects and agent restarts: it reconnects with
backoff (a note on stderr) and resumes after the last event; when the agent
cannot tell what was missed it prints RESYNC, then EXISTING for every
matching process and SYNCED.
-o json prints NDJSON: one object per event per line, e.g.
{"seq":1891180134498305,"time":"...","type":"EXITED","process":{...},"exit_code":0}.
seq stays below 2^53, so jq and JavaScript keep it exact.`,
		Example: `  ctl ps watch --name 'backup*'
  ctl ps watch --existing --user alice -o json | jq .`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			filter, fieldList, fields, err := pf.request(cmd.Flags())
			if err != nil {
				return err
			}
			req := &pb.WatchProcessesRequest{Filter: filter, IncludeExisting: existing, Fields: fieldList}
			if a.multiHost {
				return a.fleetWatchProcesses(cmd.Context(), req, fields)
			}
			return a.withClient(func(c *client.Client) error { return a.watchProcesses(cmd.Context(), c, req, fields) })
		},
	}
	pf.bind(cmd.Flags())
	cmd.Flags().BoolVar(&existing, "existing", false, "report the current matching processes first (EXISTING events, then SYNCED)")
	return cmd
}

const watchLine = "%-12s  %-8s  %7s  %7s  %-10s  %-15s  %s"

func (a *app) watchProcesses(ctx context.Context, c *client.Client, req *pb.WatchProcessesRequest, fields fieldSet) error {
	return follow(ctx, a, "watch processes", "watch", nil,
		func(ctx context.Context) (*client.ProcessWatch, error) {
			return c.FollowProcesses(ctx, req, client.FollowOptions{OnReconnect: a.reconnectNote})
		},
		(*client.ProcessWatch).Events,
		a.tableHeader(watchLine, "TIME", "TYPE", "PID", "PPID", "USER", "NAME", "COMMAND"),
		func(ev *pb.ProcessEvent) error { return record(a.out, newEventView(ev, fields), a.eventLine) })
}

func (a *app) eventLine(v eventView) string {
	ts := a.clock(v.Time)
	if v.Process == nil {
		return fmt.Sprintf(watchLine, ts, v.Type, "-", "-", "-", "-", "-")
	}
	p := *v.Process
	command := commandOf(p)
	switch {
	case v.OldName != nil:
		command += " (was " + *v.OldName + ")"
	case v.ExitSignal != nil:
		command += fmt.Sprintf(" (signal %d)", *v.ExitSignal)
	case v.ExitCode != nil:
		command += fmt.Sprintf(" (exit %d)", *v.ExitCode)
	}
	return fmt.Sprintf(watchLine, ts, v.Type, strconv.Itoa(int(p.PID)), strconv.Itoa(int(p.PPID)),
		clean(dash(deref(p.User))), clean(dash(deref(p.Name))), clean(command))
}
