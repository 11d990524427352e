package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"

	"github.com/remotectl/remotectl/client"
)

func (a *app) newHeartbeatCmd() *cobra.Command {
	var every time.Duration
	cmd := &cobra.Command{
		Use:     "heartbeat",
		Aliases: []string{"hb"},
		Short:   "Show the agent's identity and host health",
		Long: `Ask the agent for its identity and a health summary of its host: OS,
versions, uptimes, CPU, memory, load, process count and backends, plus the
clock skew and round-trip time measured by ctl.

With --watch D (--watch alone: every ` + defaultBeatEvery.String() + `), ask every D and print one
compact line per beat until Ctrl-C (exit 0), cut to the terminal's width;
up= is the agent's uptime, and a beat after the agent restarted says
RESTARTED. Failed beats while the agent is unreachable are reported on
stderr with their time, and the watch goes on. -o json prints one object
(NDJSON with --watch).`,
		Example: "  ctl heartbeat\n  ctl heartbeat --watch\n  ctl heartbeat --watch 10s\n  ctl heartbeat -o json | jq .backends",
		Args:    watchArgs(&every),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if flagChanged(cmd.Flags(), "watch") && every <= 0 {
				return usagef("invalid --watch %s: must be positive", every)
			}
			if a.multiHost {
				return a.fleetHeartbeat(cmd.Context(), every)
			}
			return a.withClient(func(c *client.Client) error {
				if every > 0 {
					warmUp(cmd.Context(), c.Conn(), a.g.timeout)
					return a.watchHeartbeats(cmd.Context(), c, every)
				}
				// One deadline for connecting and the call: --timeout 2s
				// means 2 s in all, not 2 s each.
				ctx, cancel := context.WithTimeout(cmd.Context(), a.g.timeout)
				defer cancel()
				warmUp(ctx, c.Conn(), a.g.timeout)
				b, err := heartbeatOnce(ctx, c)
				if err != nil {
					return wrapOp("heartbeat", err, nil)
				}
				v := newHeartbeatView(b)
				if a.out.json() {
					return a.out.JSON(v)
				}
				return a.out.kv(a.heartbeatKV(v))
			})
		},
	}
	cmd.Flags().DurationVar(&every, "watch", 0, "repeat every `D` (e.g. 10s; alone: "+defaultBeatEvery.String()+") until interrupted")
	cmd.Flags().Lookup("watch").NoOptDefVal = defaultBeatEvery.String()
	return cmd
}

// warmUp connects before the first measured call, so the round-trip time
// is not inflated by the TCP and TLS handshakes. Failures are left for
// the call itself to report.
func warmUp(ctx context.Context, conn *grpc.ClientConn, d time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	conn.Connect()
	for s := conn.GetState(); s != connectivity.Ready; s = conn.GetState() {
		if s == connectivity.TransientFailure || s == connectivity.Shutdown || !conn.WaitForStateChange(ctx, s) {
			return
		}
	}
}

func heartbeatOnce(ctx context.Context, c *client.Client) (beat, error) {
	start := time.Now()
	resp, err := c.Heartbeat(ctx)
	return beat{resp: resp, sent: start, rtt: time.Since(start)}, err
}

func (a *app) watchHeartbeats(ctx context.Context, c *client.Client, every time.Duration) error {
	t := time.NewTicker(every)
	defer t.Stop()
	agentStart := "" // of the last beat: a change means the agent restarted
	for {
		b, err := heartbeatOnce(ctx, c)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			err = wrapOp("heartbeat", err, nil)
			err = a.diagnose(err)
			code, line := describe(err, "heartbeat", a.target)
			if code != exitUnavailable && code != exitTimeout {
				return err // not transient: waiting will not help
			}
			a.diag("%s %s", time.Now().In(a.out.loc).Format(time.RFC3339), line)
		default:
			v := newHeartbeatView(b)
			restarted := agentStart != "" && v.AgentStartTime != agentStart
			agentStart = v.AgentStartTime
			if a.out.json() {
				err = a.out.JSONLine(v)
			} else {
				err = a.out.Line(a.heartbeatLine(v, restarted))
			}
			if err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// heartbeatLine is one compact --watch line; restarted marks the first
// beat from a new agent process.
func (a *app) heartbeatLine(v heartbeatView, restarted bool) string {
	load := "-"
	if v.LoadAverage != nil {
		load = strconv.FormatFloat(v.LoadAverage.Load1, 'f', 2, 64)
	}
	up := "-"
	if v.AgentUptimeSeconds != nil {
		up = humanDuration(time.Duration(*v.AgentUptimeSeconds * float64(time.Second)))
	}
	line := fmt.Sprintf("%s host=%s up=%s cpu=%.1f%% mem=%s/%s load=%s procs=%d skew=%s rtt=%s",
		parseTime(v.Time).In(a.out.loc).Format(time.RFC3339), clean(v.Hostname), up, v.CPUPercent,
		humanBytes(v.MemoryUsedBytes), humanBytes(v.MemoryTotalBytes), load, v.ProcessCount,
		signedDuration(v.ClockSkewSeconds), secondsString(v.RTTSeconds))
	if restarted {
		line += " RESTARTED"
	}
	return line
}

// defaultBeatEvery is the interval of a bare --watch.
const defaultBeatEvery = 5 * time.Second

// watchArgs accepts `--watch 10s` as well as `--watch=10s`: with a default
// for a bare --watch, pflag leaves a separate value as an argument.
func watchArgs(every *time.Duration) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) == 1 && flagChanged(cmd.Flags(), "watch") {
			if d, err := time.ParseDuration(args[0]); err == nil {
				*every = d
				return nil
			}
		}
		return noArgs(cmd, args)
	}
}

func (a *app) heartbeatKV(v heartbeatView) [][2]string {
	osLine := strings.Join(nonEmpty(v.OS, v.Platform, v.PlatformVersion), " ")
	if extra := strings.Join(nonEmpty(kernel(v.KernelVersion), v.Architecture), ", "); extra != "" {
		osLine += " (" + extra + ")"
	}
	version := v.AgentVersion
	if v.AgentCommit != "" {
		version += " (" + v.AgentCommit + ")"
	}
	since := func(secs *float64, at string) string {
		if secs == nil {
			return "-"
		}
		s := humanDuration(time.Duration(*secs * float64(time.Second)))
		if t := parseTime(at); !t.IsZero() {
			s += " (since " + t.In(a.out.loc).Format(time.RFC3339) + ")"
		}
		return s
	}
	cpu := fmt.Sprintf("%.1f%% of %d CPUs", v.CPUPercent, v.CPUCount)
	if v.CPUPercentWindowSeconds > 0 {
		cpu += " (over " + secondsString(v.CPUPercentWindowSeconds) + ")"
	}
	mem := "-"
	if v.MemoryTotalBytes > 0 {
		mem = fmt.Sprintf("%s used of %s (%.1f%%), %s available", humanBytes(v.MemoryUsedBytes), humanBytes(v.MemoryTotalBytes),
			100*float64(v.MemoryUsedBytes)/float64(v.MemoryTotalBytes), humanBytes(v.MemoryAvailableBytes))
	}
	load := "-"
	if l := v.LoadAverage; l != nil {
		load = fmt.Sprintf("%.2f %.2f %.2f", l.Load1, l.Load5, l.Load15)
	}
	var backends []string
	for _, b := range v.Backends {
		s := b.Capability + "=" + b.Implementation
		if !b.Available {
			s += " (unavailable"
			if b.Reason != "" {
				s += ": " + b.Reason
			}
			s += ")"
		}
		backends = append(backends, s)
	}
	return [][2]string{
		{"host", dash(v.Hostname)},
		{"os", dash(osLine)},
		{"agent version", dash(version)},
		{"uptime", since(v.UptimeSeconds, v.BootTime)},
		{"agent uptime", since(v.AgentUptimeSeconds, v.AgentStartTime)},
		{"cpu", cpu},
		{"memory", mem},
		{"load", load},
		{"processes", strconv.Itoa(int(v.ProcessCount))},
		{"backends", dash(strings.Join(backends, ", "))},
		{"certificate", certLine(v)},
		{"clock skew", signedDuration(v.ClockSkewSeconds) + " (agent clock minus ours)"},
		{"rtt", secondsString(v.RTTSeconds)},
	}
}

func kernel(k string) string {
	if k == "" {
		return ""
	}
	return "kernel " + k
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

func secondsString(s float64) string {
	d := time.Duration(s * float64(time.Second))
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	}
	return d.Round(time.Microsecond).String()
}

func signedDuration(s float64) string {
	if s < 0 {
		return "-" + secondsString(-s)
	}
	return "+" + secondsString(s)
}

// certLine shows when the agent's serving certificate expires, flagged when
// that is within 30 days (ctld itself warns at 14).
func certLine(v heartbeatView) string {
	t := parseTime(v.ServerCertNotAfter)
	if t.IsZero() {
		return "-"
	}
	s := "expires " + t.UTC().Format(time.RFC3339)
	left := time.Until(t)
	switch {
	case left <= 0:
		s += " (EXPIRED)"
	case left < 30*24*time.Hour:
		s += fmt.Sprintf(" (in %d days: renew it)", int(left.Hours()/24))
	}
	if v.ServerCertSerial != "" {
		s += ", serial " + v.ServerCertSerial
	}
	return s
}
