package main

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/remotectl/remotectl/client"
	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
	"github.com/remotectl/remotectl/server/logs"
)

// logEntryView is one line of `ctl logs -o json` (NDJSON).
type logEntryView struct {
	Time        string `json:"time"`
	Source      string `json:"source"`
	Message     string `json:"message"`
	Unit        string `json:"unit,omitempty"`
	PID         int32  `json:"pid,omitempty"`
	Priority    string `json:"priority,omitempty"`
	Provider    string `json:"provider,omitempty"`
	EventID     uint32 `json:"event_id,omitempty"`
	Truncated   bool   `json:"truncated,omitempty"`
	InvalidUTF8 bool   `json:"invalid_utf8,omitempty"`
	Cursor      string `json:"cursor"`
}

func newLogEntryView(e *pb.LogEntry) logEntryView {
	return logEntryView{Time: timeString(e.GetTime()), Source: e.GetSource(), Message: e.GetMessage(), Unit: e.GetUnit(),
		PID: e.GetPid(), Priority: logs.Priority(e.GetPriority()).String(), Provider: e.GetProvider(), EventID: e.GetEventId(),
		Truncated: e.GetTruncated(), InvalidUTF8: e.GetInvalidUtf8(), Cursor: e.GetCursor()}
}

// logsFlags are the flags of `ctl logs` and `ctl svc logs`.
type logsFlags struct {
	follow          bool
	lines           int
	since, cursor   string
	grep, exclude   []string
	priority        string
	unit, channel   string
	provider, xpath string
	journal         bool
}

func (f *logsFlags) register(cmd *cobra.Command, sources bool) {
	fl := cmd.Flags()
	fl.BoolVarP(&f.follow, "follow", "f", false, "keep printing new entries until interrupted (reconnects and resumes after the last entry)")
	fl.IntVarP(&f.lines, "lines", "n", logs.DefaultReadLines, "show the last `N` existing entries first (-f -n 0: only new ones)")
	fl.StringVar(&f.since, "since", "", "only entries since `TIME`: a duration ago (1h) or RFC 3339 (journal and Event Log only)")
	fl.StringArrayVar(&f.grep, "grep", nil, "keep entries matching this RE2 `REGEX` (repeatable: any)")
	fl.StringArrayVar(&f.exclude, "exclude", nil, "drop entries matching this RE2 `REGEX` (repeatable)")
	fl.StringVarP(&f.priority, "priority", "p", "", "keep entries of this `PRIORITY` or more severe: emerg, alert, crit, err, warning, notice, info, debug (or 0-7)")
	fl.StringVar(&f.cursor, "cursor", "", "continue right after this `CURSOR` (from -o json), with -f")
	if sources {
		fl.StringVarP(&f.unit, "unit", "u", "", "read the journal of this systemd `UNIT`")
		fl.BoolVar(&f.journal, "journal", false, "read the whole systemd journal")
		fl.StringVar(&f.channel, "channel", "", "read this Windows Event Log `CHANNEL` (Application, System, ...)")
		fl.StringVar(&f.provider, "provider", "", "with --channel: only records of this `PROVIDER`")
		fl.StringVar(&f.xpath, "xpath", "", "with --channel: an Event Log XPath `QUERY`")
	}
}

// source builds the request's source from SOURCE or the flags.
func (f *logsFlags) source(args []string) (*pb.LogSource, error) {
	var srcs []*pb.LogSource
	if len(args) == 1 {
		srcs = append(srcs, &pb.LogSource{Kind: &pb.LogSource_File{File: args[0]}})
	}
	if f.unit != "" {
		srcs = append(srcs, &pb.LogSource{Kind: &pb.LogSource_Journal{Journal: &pb.JournalSource{Unit: f.unit}}})
	}
	if f.journal {
		srcs = append(srcs, &pb.LogSource{Kind: &pb.LogSource_Journal{Journal: &pb.JournalSource{}}})
	}
	if f.channel != "" {
		srcs = append(srcs, &pb.LogSource{Kind: &pb.LogSource_EventLog{EventLog: &pb.EventLogSource{Channel: f.channel, Provider: f.provider, Xpath: f.xpath}}})
	} else if f.provider != "" || f.xpath != "" {
		return nil, usagef("--provider and --xpath need --channel")
	}
	if len(srcs) != 1 {
		return nil, usagef("give exactly one source: a FILE path or glob, --unit, --journal or --channel")
	}
	return srcs[0], nil
}

// filter validates the patterns locally, for a usage error before dialing.
func (f *logsFlags) filter() (*pb.LogFilter, error) {
	lf := &pb.LogFilter{Include: f.grep, Exclude: f.exclude}
	for _, p := range append(append([]string(nil), f.grep...), f.exclude...) {
		if _, err := regexp.Compile(p); err != nil {
			return nil, usagef("invalid pattern %q: %v", p, err)
		}
	}
	if f.priority != "" {
		p, ok := logs.ParsePriority(f.priority)
		if !ok {
			return nil, usagef("invalid --priority %q: use emerg, alert, crit, err, warning, notice, info, debug or 0-7", f.priority)
		}
		lf.MaxPriority = pb.LogPriority(p)
	}
	return lf, nil
}

func (f *logsFlags) sinceTime(now time.Time) (*timestamppb.Timestamp, error) {
	if f.since == "" {
		return nil, nil
	}
	if d, err := time.ParseDuration(f.since); err == nil && d > 0 {
		return timestamppb.New(now.Add(-d)), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, f.since); err == nil {
		return timestamppb.New(t), nil
	}
	return nil, usagef("invalid --since %q: a positive duration (90m, 2h) or an RFC 3339 time", f.since)
}

func (a *app) newLogsCmd() *cobra.Command {
	var f logsFlags
	cmd := &cobra.Command{
		Use:   "logs [FILE|GLOB]",
		Short: "Read and follow logs on the agent: files, the journal, the Windows Event Log",
		Long: `Print the last entries of a log source, and with -f keep following it
through log rotation (rename+create and copytruncate) and reconnects.

The source is a FILE path or GLOB on the agent's host, --unit UNIT or
--journal (systemd journal), or --channel CHANNEL (Windows Event Log). The
agent serves only sources on its allow-list (ctld --logs-allow) and on your
role's list; refusals exit with code 4 and name the list.

Text output is the bare line for one file, else "TIME SOURCE: MESSAGE".
-o json prints NDJSON, one entry per line, with the keys time, source,
message, unit, pid, priority, provider, event_id, truncated, invalid_utf8
and cursor (docs/logs.md); pass a cursor to --cursor to continue after it.`,
		Example: `  ctl logs /var/log/syslog -n 50
  ctl logs '/var/log/nginx/*.log' -f --grep ' 5[0-9][0-9] ' -o json
  ctl logs --unit nginx -f --priority warning
  ctl logs --channel System --since 1h`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usagef("expected at most one FILE or GLOB, got %d arguments", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			src, err := f.source(args)
			if err != nil {
				return err
			}
			return a.runLogs(cmd.Context(), src, &f)
		},
	}
	f.register(cmd, true)
	return cmd
}

func (a *app) newSvcLogsCmd() *cobra.Command {
	var f logsFlags
	cmd := &cobra.Command{
		Use:   "logs NAME",
		Short: "Read and follow a service's logs (its journal unit; on Windows its Event Log source)",
		Long: `Print the last entries a service logged, and with -f keep following them.
On Linux these are the journal entries of the unit; on Windows the
Application log records of the provider named like the service. Flags and
-o json as for ctl logs.`,
		Example: `  ctl svc logs nginx -f
  ctl svc logs sshd -n 100 --grep 'Failed password'`,
		Args: exactArgs(1, "a service NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			src := &pb.LogSource{Kind: &pb.LogSource_Service{Service: args[0]}}
			return a.runLogs(cmd.Context(), src, &f)
		},
	}
	f.register(cmd, false)
	return cmd
}

func (a *app) runLogs(ctx context.Context, src *pb.LogSource, f *logsFlags) error {
	filter, err := f.filter()
	if err != nil {
		return err
	}
	since, err := f.sinceTime(a.now())
	if err != nil {
		return err
	}
	if f.lines < 0 || f.lines > logs.DefaultLimits.MaxReadLines {
		return usagef("invalid --lines %d: 0 to %d", f.lines, logs.DefaultLimits.MaxReadLines)
	}
	if f.cursor != "" && !f.follow {
		return usagef("--cursor continues a follow: add -f")
	}
	p := &logPrinter{a: a, bare: src.GetFile() != "" && !strings.ContainsAny(src.GetFile(), "*?[")}
	if a.multiHost {
		return a.fleetLogs(ctx, src, filter, since, f, p)
	}
	return a.withClient(func(c *client.Client) error {
		if !f.follow {
			resp, err := c.ReadLogs(ctx, &pb.ReadLogsRequest{Source: src, Filter: filter, Lines: uint32(f.lines), Since: since})
			if err != nil {
				return wrapOp("read logs", err, logHints)
			}
			for _, e := range resp.GetEntries() {
				if err := p.print(e); err != nil {
					return err
				}
			}
			return nil
		}
		req := &pb.FollowLogsRequest{Source: src, Filter: filter, Lines: uint32(f.lines), Since: since, Cursor: f.cursor}
		return a.followLogs(ctx, c, req, p)
	})
}

var logHints = map[int]string{exitNotFound: "check the path on the agent's host; ctl logs -f waits for a file that does not exist yet"}

func (a *app) followLogs(ctx context.Context, c *client.Client, req *pb.FollowLogsRequest, p *logPrinter) error {
	const op = "follow logs"
	return follow(ctx, a, op, "follow", logHints,
		func(ctx context.Context) (*client.LogFollow, error) {
			return c.FollowLogs(ctx, req, client.FollowOptions{OnReconnect: func(err error, d time.Duration) {
				a.diag("ctl: %s: %s; reconnecting in %s", op, reasonOf(err), d.Round(time.Millisecond))
			}})
		},
		(*client.LogFollow).Entries, "", p.print)
}

// logPrinter prints entries as NDJSON or text.
type logPrinter struct {
	a    *app
	bare bool // one file: the line as it is, like tail
}

func (p *logPrinter) print(e *pb.LogEntry) error {
	o := p.a.out
	if o.json() {
		return o.JSONLine(newLogEntryView(e))
	}
	return o.Line(p.line(e))
}

// line is one entry as text.
func (p *logPrinter) line(e *pb.LogEntry) string {
	if p.bare {
		return clean(e.GetMessage())
	}
	src := e.GetSource()
	if e.GetUnit() != "" || e.GetProvider() != "" {
		src = orDefault(e.GetProvider(), e.GetUnit())
		if e.GetPid() > 0 {
			src += "[" + strconv.Itoa(int(e.GetPid())) + "]"
		}
	}
	return p.a.clock(timeString(e.GetTime())) + " " + clean(src) + ": " + clean(e.GetMessage())
}
