package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/remotectl/remotectl/client"
	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
)

// serviceEventView is one line of `ctl svc watch -o json` (NDJSON).
type serviceEventView struct {
	eventHead
	Name        string `json:"name,omitempty"`
	OldState    string `json:"old_state,omitempty"`
	NewState    string `json:"new_state,omitempty"`
	NativeState string `json:"native_state,omitempty"`
	MainPID     int32  `json:"main_pid"`
}

func newServiceEventView(e *pb.ServiceEvent) serviceEventView {
	v := serviceEventView{eventHead: newEventHead(e, nameOr(serviceEventTypeNames, e.GetType()))}
	if t := e.GetType(); t != pb.ServiceEventType_SERVICE_EVENT_TYPE_SYNCED && t != pb.ServiceEventType_SERVICE_EVENT_TYPE_RESYNC {
		v.Name, v.NativeState, v.MainPID = e.GetName(), e.GetNativeState(), e.GetMainPid()
		v.OldState, v.NewState = serviceStateName(e.GetOldState()), serviceStateName(e.GetNewState())
	}
	return v
}

func (a *app) newSvcWatchCmd() *cobra.Command {
	var (
		glob     string
		states   []string
		existing bool
	)
	cmd := &cobra.Command{
		Use:   "watch",
		Short: "Stream service state changes until interrupted",
		Long: `Stream service state changes from the agent, one line per event, until
Ctrl-C (exit 0) or a stream error (non-zero exit code).

Table columns: TIME TYPE NAME OLD NEW PID. Types: CHANGED, and with
--existing first EXISTING for each current service, then SYNCED. --state
keeps changes into or out of the given states. -o json prints NDJSON, e.g.
{"seq":3,"time":"...","type":"CHANGED","name":"nginx.service",
"old_state":"running","new_state":"stopping","native_state":"deactivating/stop-sigterm","main_pid":0}.
The watch survives disconnects and agent restarts like ctl ps watch: it
reconnects with backoff (a note on stderr) and resumes after the last event;
when the agent cannot tell what was missed (or the output was read too
slowly) it prints RESYNC, then EXISTING for every matching service and SYNCED.`,
		Example: `  ctl svc watch --name 'nginx*'
  ctl svc watch --existing --state failed -o json | jq .`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sts, err := serviceFilter(glob, states)
			if err != nil {
				return err
			}
			req := &pb.WatchServicesRequest{NameGlob: glob, States: sts, IncludeExisting: existing}
			if a.multiHost {
				return a.fleetWatchServices(cmd.Context(), req)
			}
			return a.withClient(func(c *client.Client) error { return a.watchServices(cmd.Context(), c, req) })
		},
	}
	cmd.Flags().StringVar(&glob, "name", "", "only services whose name matches `GLOB` (e.g. 'ssh*')")
	cmd.Flags().StringSliceVar(&states, "state", nil, "only changes into or out of these `STATE`s (repeatable or comma list)")
	cmd.Flags().BoolVar(&existing, "existing", false, "report the current matching services first (EXISTING events, then SYNCED)")
	return cmd
}

const svcWatchLine = "%-12s  %-8s  %-32s  %-9s  %-9s  %s"

func (a *app) watchServices(ctx context.Context, c *client.Client, req *pb.WatchServicesRequest) error {
	return follow(ctx, a, "watch services", "watch", nil,
		func(ctx context.Context) (*client.ServiceWatch, error) {
			return c.FollowServices(ctx, req, client.FollowOptions{OnReconnect: a.reconnectNote})
		},
		(*client.ServiceWatch).Events,
		a.tableHeader(svcWatchLine, "TIME", "TYPE", "NAME", "OLD", "NEW", "PID"),
		func(ev *pb.ServiceEvent) error { return record(a.out, newServiceEventView(ev), a.serviceEventLine) })
}

func (a *app) serviceEventLine(v serviceEventView) string {
	ts := a.clock(v.Time)
	if v.Type == "SYNCED" || v.Type == "RESYNC" {
		return fmt.Sprintf(svcWatchLine, ts, v.Type, "-", "-", "-", "-")
	}
	return fmt.Sprintf(svcWatchLine, ts, v.Type, clean(v.Name), v.OldState, v.NewState, pidCell(v.MainPID))
}
