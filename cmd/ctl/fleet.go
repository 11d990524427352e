package main

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/remotectl/remotectl/client"
	"github.com/remotectl/remotectl/fleet"
)

// fleetStatusView is one host of `ctl fleet status -o json`, and the
// status part of a `fleet watch` transition.
type fleetStatusView struct {
	Host          string  `json:"host"`
	State         string  `json:"state"`
	Previous      string  `json:"previous,omitempty"`
	Time          string  `json:"time,omitempty"`
	Since         string  `json:"since,omitempty"`
	LastSeen      string  `json:"last_seen,omitempty"`
	RTTSeconds    float64 `json:"rtt_seconds"`
	AgentVersion  string  `json:"agent_version,omitempty"`
	UptimeSeconds float64 `json:"uptime_seconds"`
	Misses        int     `json:"misses"`
	Reason        string  `json:"reason,omitempty"`
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func newFleetStatusView(s fleet.Status) fleetStatusView {
	if s.Err != nil {
		s.Reason = reasonOf(s.Err) // the transport's own words, not grpc's wrapping
	}
	return fleetStatusView{
		Host: s.Host, State: s.State.String(), Since: rfc3339(s.Since), LastSeen: rfc3339(s.LastSeen),
		RTTSeconds: s.RTT.Seconds(), AgentVersion: s.AgentVersion, UptimeSeconds: s.Uptime.Seconds(),
		Misses: s.Misses, Reason: s.Reason,
	}
}

func newTransitionView(t fleet.Transition) fleetStatusView {
	v := newFleetStatusView(t.Status)
	v.Previous, v.Time = t.From.String(), rfc3339(t.At)
	return v
}

// policyFlags bind the health state machine's timings.
func bindPolicy(cmd *cobra.Command, p *fleet.Policy) {
	d := fleet.DefaultPolicy
	fs := cmd.Flags()
	fs.DurationVar(&p.Interval, "interval", d.Interval, "probe each host every `D` (spread by ±10%)")
	fs.DurationVar(&p.Timeout, "probe-timeout", d.Timeout, "a probe not answered within `D` is a miss")
	fs.IntVar(&p.Misses, "misses", d.Misses, "consecutive misses before DOWN")
	fs.DurationVar(&p.Grace, "grace", d.Grace, "DOWN also after no answer for interval x misses + `D`")
	fs.IntVar(&p.Rise, "rise", d.Rise, "consecutive answers before UP or DEGRADED again")
	fs.DurationVar(&p.Late, "late", d.Late, "an answer slower than `D` is DEGRADED")
	fs.DurationVar(&p.CertWarn, "cert-warn", d.CertWarn, "an agent certificate expiring within `D` is DEGRADED")
	fs.DurationVar(&p.MaxSkew, "max-skew", d.MaxSkew, "an agent clock off by more than `D` is DEGRADED")
	fs.IntVar(&p.Parallel, "max-probes", d.Parallel, "probes in flight at once; --probe-timeout counts from a probe's start")
	fs.DurationVar(&p.MaxBackoff, "max-backoff", d.MaxBackoff, "a DOWN host is probed at most every `D` (backoff with jitter)")
}

func (a *app) newFleetCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "fleet",
		Short: "Health of many hosts: a one-shot status or a live view with alerts",
		Long: `Probe many agents with heartbeats and track each one's state:
UNKNOWN, UP, DEGRADED (late, a backend unavailable, clock skew, certificate
near expiry) or DOWN (misses in a row, or no answer for a window). The
state machine, its timings and the alert hooks are in docs/fleet.md.`,
		Args: unknownSubcommand,
		RunE: missingSubcommand,
	}
	cmd.AddCommand(a.newFleetStatusCmd(), a.newFleetWatchCmd())
	return cmd
}

func (a *app) newFleetStatusCmd() *cobra.Command {
	var p fleet.Policy
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Probe every host once and show its state, RTT, version and uptime",
		Long: `Probe every host once: UP or DEGRADED when it answered, DOWN when it
did not within --probe-timeout. Exit code 0 when every host answered, 11
when some did not. -o json prints one object per host.`,
		Example: "  ctl fleet status -g web\n  ctl fleet status --host a,b,c -o json",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pool, err := a.fleetPool()
			if err != nil {
				return err
			}
			defer func() { _ = pool.Close() }()
			p.Misses = 1 // one shot: no answer is DOWN
			p.ConnectTimeout = a.fl.connectTimeout
			m := fleet.NewMonitor(pool, a.hosts, p, nil)
			o := a.doOptions()
			o.FailHard = false
			results := fleet.Do(cmd.Context(), pool, a.hosts, o, func(ctx context.Context, h fleet.Host, _ *client.Client) (fleet.Status, error) {
				tr, _, _ := m.ProbeOnce(ctx, h)
				return tr.Status, nil
			}, nil)
			views := make([]fleetStatusView, 0, len(results))
			down := 0
			for _, r := range results {
				st := r.Value
				if r.Err != nil {
					st = fleet.Status{Host: r.Host.Name, State: fleet.Down, Err: r.Err}
				}
				if st.State == fleet.Down {
					down++
				}
				views = append(views, newFleetStatusView(st))
			}
			if err := a.printFleetStatus(views); err != nil {
				return err
			}
			a.diag("ctl: %d hosts: %d answered, %d down", len(views), len(views)-down, down)
			if down > 0 {
				return &fleetExit{exitSomeUnreachable}
			}
			return nil
		},
	}
	bindPolicy(cmd, &p)
	return cmd
}

func (a *app) printFleetStatus(views []fleetStatusView) error {
	if a.out.json() {
		return a.out.JSON(views)
	}
	t := a.out.table("HOST", "STATE", "RTT", "VERSION", "UPTIME", "LAST SEEN", "REASON")
	for _, v := range views {
		t.row(v.Host, v.State, a.rttCell(v), dash(v.AgentVersion), uptimeCell(v), a.clock(v.LastSeen), dash(v.Reason))
	}
	return t.flush()
}

func (a *app) rttCell(v fleetStatusView) string {
	if v.LastSeen == "" || v.State == fleet.Down.String() {
		return "-"
	}
	return secondsString(v.RTTSeconds)
}

func uptimeCell(v fleetStatusView) string {
	if v.UptimeSeconds <= 0 {
		return "-"
	}
	return humanDuration(time.Duration(v.UptimeSeconds * float64(time.Second)))
}
