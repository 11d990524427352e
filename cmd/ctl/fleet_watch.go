package main

import (
	"context"
	"fmt"

	"github.com/remotectl/remotectl/fleet"
	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
)

// mergedWatch prints a merged stream: a HOST column (or a host key in
// NDJSON) before each event, notes about hosts' streams on stderr. It
// ends at Ctrl-C (exit 0), or when every host's stream ended for good.
func mergedWatch[E any](ctx context.Context, a *app, op string, m *fleet.Merged[E], header string, line func(host string, ev E) string, jsonOf func(host string, ev E) any) error {
	width := hostWidth(a.hosts)
	if !a.out.json() {
		if err := a.out.Line(a.fleetWatchLine(width, "HOST", header)); err != nil {
			return err
		}
	}
	reported := map[string]bool{}
	failed := 0
	for ev := range m.Events() {
		var err error
		if ev.Err != nil {
			a.hostNote(ev.Host, op, ev.Err, ev.Retrying, reported)
			if !ev.Retrying {
				failed++
			}
			continue
		}
		delete(reported, ev.Host) // the stream works again: report its next break
		if a.out.json() {
			err = a.out.JSONLine(jsonOf(ev.Host, ev.Event))
		} else {
			err = a.out.Line(a.fleetWatchLine(width, ev.Host, line(ev.Host, ev.Event)))
		}
		if err != nil {
			return err
		}
	}
	if ctx.Err() == nil {
		a.diag("ctl: %s: every host's stream ended; %d with an error", op, failed)
		if failed > 0 {
			return &fleetExit{exitSomeFailed}
		}
		return &fleetExit{exitSomeUnreachable}
	}
	return nil // the user ended the watch
}

func (a *app) fleetWatchProcesses(ctx context.Context, req *pb.WatchProcessesRequest, fields fieldSet) error {
	pool, err := a.fleetPool()
	if err != nil {
		return err
	}
	defer func() { _ = pool.Close() }()
	m := fleet.FollowProcesses(ctx, pool, a.hosts, req, fleet.FollowOptions{})
	header := fmt.Sprintf(watchLine, "TIME", "TYPE", "PID", "PPID", "USER", "NAME", "COMMAND")
	return mergedWatch(ctx, a, "watch processes", m, header,
		func(_ string, ev *pb.ProcessEvent) string { return a.eventLine(newEventView(ev, fields)) },
		func(host string, ev *pb.ProcessEvent) any {
			return hostProcessEvent{Host: host, eventView: newEventView(ev, fields)}
		})
}

func (a *app) fleetWatchServices(ctx context.Context, req *pb.WatchServicesRequest) error {
	pool, err := a.fleetPool()
	if err != nil {
		return err
	}
	defer func() { _ = pool.Close() }()
	m := fleet.FollowServices(ctx, pool, a.hosts, req, fleet.FollowOptions{})
	header := fmt.Sprintf(svcWatchLine, "TIME", "TYPE", "NAME", "OLD", "NEW", "PID")
	return mergedWatch(ctx, a, "watch services", m, header,
		func(_ string, ev *pb.ServiceEvent) string { return a.serviceEventLine(newServiceEventView(ev)) },
		func(host string, ev *pb.ServiceEvent) any {
			return hostServiceEvent{Host: host, serviceEventView: newServiceEventView(ev)}
		})
}
