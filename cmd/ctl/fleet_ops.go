package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/remotectl/remotectl/client"
	"github.com/remotectl/remotectl/fleet"
	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
)

// The fan-out forms of the per-host commands: each reuses the command's
// own call and view, and adds how one host's result prints.

func (a *app) fleetHeartbeat(ctx context.Context, every time.Duration) error {
	if every > 0 {
		return &hintedError{errors.New("heartbeat --watch follows one host"), exitUsage, "for many hosts use `ctl fleet watch`"}
	}
	return a.fanOut(ctx, fanOp{
		op: "heartbeat",
		call: func(ctx context.Context, _ fleet.Host, c *client.Client) (any, error) {
			b, err := heartbeatOnce(ctx, c)
			if err != nil {
				return nil, err
			}
			return newHeartbeatView(b), nil
		},
		lines: func(v any) []string { return []string{a.heartbeatLine(v.(heartbeatView), false)} },
	})
}

func (a *app) fleetWhoami(ctx context.Context) error {
	return a.fanOut(ctx, fanOp{
		op: "whoami",
		call: func(ctx context.Context, h fleet.Host, c *client.Client) (any, error) {
			return a.whoami(ctx, c, h.Name)
		},
		lines: func(v any) []string {
			var out []string
			for _, kv := range whoamiKV(v.(whoamiView)) {
				out = append(out, kv[0]+": "+clean(kv[1]))
			}
			return out
		},
	})
}

func (a *app) fleetPs(ctx context.Context, req *pb.ListProcessesRequest, fields fieldSet) error {
	return a.fanOut(ctx, fanOp{
		op: "list processes",
		call: func(ctx context.Context, _ fleet.Host, c *client.Client) (any, error) {
			resp, err := c.ListProcesses(ctx, req)
			if err != nil {
				return nil, err
			}
			return processViews(resp.GetProcesses(), fields), nil
		},
		header: a.processHeader(),
		rows:   rowsOf(a.processCells),
	})
}

func (a *app) fleetSvcLs(ctx context.Context, req *pb.ListServicesRequest) error {
	return a.fanOut(ctx, fanOp{
		op: "list services",
		call: func(ctx context.Context, _ fleet.Host, c *client.Client) (any, error) {
			resp, err := c.ListServices(ctx, req)
			if err != nil {
				return nil, err
			}
			return viewsOf(resp.GetServices(), newServiceView), nil
		},
		header: a.serviceHeader(),
		rows:   rowsOf(a.serviceCells),
	})
}

func (a *app) fleetSvcGet(ctx context.Context, name string) error {
	return a.fanOut(ctx, fanOp{
		op: "get service " + name, hints: svcHints(name),
		call: func(ctx context.Context, _ fleet.Host, c *client.Client) (any, error) {
			s, err := c.GetService(ctx, name)
			if err != nil {
				return nil, err
			}
			return newServiceView(s), nil
		},
		lines: func(v any) []string {
			var out []string
			for _, kv := range serviceKV(v.(serviceView)) {
				out = append(out, kv[0]+": "+clean(kv[1]))
			}
			return out
		},
	})
}

func (a *app) fleetSvcControl(ctx context.Context, action, name string, wait time.Duration, fn controlFunc, opts []client.ControlOption) error {
	return a.fanOut(ctx, fanOp{
		op: action + " service " + name, hints: svcHints(name), change: action + " service " + name,
		call: func(ctx context.Context, _ fleet.Host, c *client.Client) (any, error) {
			r, err := fn(c, ctx, name, wait, opts...)
			if err != nil {
				return nil, err
			}
			return newControlView(r), nil
		},
		lines: func(v any) []string { return []string{controlLine(v.(controlView))} },
	})
}

// hostProcessEvent and hostServiceEvent are the NDJSON lines of merged
// watches: the event with the host it came from.
type hostProcessEvent struct {
	Host string `json:"host"`
	eventView
}

type hostServiceEvent struct {
	Host string `json:"host"`
	serviceEventView
}

// hostNote is what a merged watch says on stderr about one host's stream.
func (a *app) hostNote(host, op string, err error, retrying bool, reported map[string]bool) {
	if retrying {
		if !reported[host] {
			reported[host] = true
			a.diag("ctl: %s: %s interrupted (%s); reconnecting with backoff", host, op, reasonOf(err))
		}
		return
	}
	a.diag("ctl: %s: %s: %s", host, op, reasonOf(err))
}

func (a *app) fleetWatchLine(width int, host, line string) string {
	return fmt.Sprintf("%-*s  %s", width, host, line)
}
