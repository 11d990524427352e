package main

import (
	"context"
	"encoding/json"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/remotectl/remotectl/client"
	"github.com/remotectl/remotectl/fleet"
	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
)

// hostLogEntry is one NDJSON line of a merged logs -f.
type hostLogEntry struct {
	Host string `json:"host"`
	logEntryView
}

// fleetLogs is `ctl logs` on many hosts: a fan-out of reads (one result
// per host), or with -f the hosts' follows merged live.
func (a *app) fleetLogs(ctx context.Context, src *pb.LogSource, filter *pb.LogFilter, since *timestamppb.Timestamp, f *logsFlags, p *logPrinter) error {
	if f.cursor != "" {
		return usagef("--cursor continues the follow of one host: use it with one --host")
	}
	if !f.follow {
		req := &pb.ReadLogsRequest{Source: src, Filter: filter, Lines: uint32(f.lines), Since: since}
		return a.fanOut(ctx, fanOp{
			op: "read logs", hints: logHints,
			call: func(ctx context.Context, _ fleet.Host, c *client.Client) (any, error) {
				resp, err := c.ReadLogs(ctx, req)
				if err != nil {
					return nil, err
				}
				views := make([]logEntryView, 0, len(resp.GetEntries()))
				lines := make([]string, 0, len(resp.GetEntries()))
				for _, e := range resp.GetEntries() {
					views = append(views, newLogEntryView(e))
					lines = append(lines, p.line(e))
				}
				return hostLogs{views: views, lines: lines}, nil
			},
			lines: func(v any) []string { return v.(hostLogs).lines },
		})
	}
	pool, err := a.fleetPool()
	if err != nil {
		return err
	}
	defer func() { _ = pool.Close() }()
	req := &pb.FollowLogsRequest{Source: src, Filter: filter, Lines: uint32(f.lines), Since: since}
	m := fleet.FollowLogs(ctx, pool, a.hosts, req, fleet.FollowOptions{})
	return mergedWatch(ctx, a, "follow logs", m, "LOG",
		func(_ string, e *pb.LogEntry) string { return p.line(e) },
		func(host string, e *pb.LogEntry) any {
			return hostLogEntry{Host: host, logEntryView: newLogEntryView(e)}
		})
}

// hostLogs is one host's read: the JSON entries and the text lines.
type hostLogs struct {
	views []logEntryView
	lines []string
}

// MarshalJSON makes a host's result the array of its entries.
func (h hostLogs) MarshalJSON() ([]byte, error) { return json.Marshal(h.views) }
