package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os/exec"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"github.com/remotectl/remotectl/fleet"
)

// alertFlags are the hooks of `fleet watch`.
type alertFlags struct {
	onChange, webhook, metricsListen string
	webhookTries                     int
}

func (a *app) newFleetWatchCmd() *cobra.Command {
	var (
		p  fleet.Policy
		af alertFlags
	)
	cmd := &cobra.Command{
		Use:   "watch",
		Short: "Probe every host continuously and report state changes, with alert hooks",
		Long: `Probe every host every --interval (with jitter) and print one line per
state change until Ctrl-C (exit 0): TIME HOST PREVIOUS STATE RTT REASON.
-o json prints NDJSON, e.g. {"host":"web1","state":"DOWN","previous":"UP",...}.

Alerts, for every change except a host's first UP (UNKNOWN -> UP):
  --on-change CMD  runs CMD with the shell, the event as JSON on stdin and
                   CTL_FLEET_HOST, CTL_FLEET_STATE, CTL_FLEET_PREVIOUS set
  --webhook URL    POSTs the event as JSON; retried with backoff on a
                   network error or a 5xx/429 answer (--webhook-tries)
--metrics-listen ADDR serves Prometheus metrics on http://ADDR/metrics:
remotectl_fleet_host_up, _state, _last_seen_timestamp_seconds, _rtt_seconds.`,
		Example: "  ctl fleet watch -g web --interval 10s --webhook https://alerts.example/hook\n  ctl fleet watch --host a,b,c -o json --on-change 'logger -t fleet'",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if a.hostErr != nil {
				return a.hostErr
			}
			if af.webhook != "" {
				if u, err := url.Parse(af.webhook); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
					return usagef("invalid --webhook %q: want an http:// or https:// URL", af.webhook)
				}
			}
			pool, err := a.fleetPool()
			if err != nil {
				return err
			}
			defer func() { _ = pool.Close() }()
			p.ConnectTimeout = a.fl.connectTimeout
			return a.fleetWatch(cmd.Context(), fleet.NewMonitor(pool, a.hosts, p, nil), af)
		},
	}
	bindPolicy(cmd, &p)
	fs := cmd.Flags()
	fs.StringVar(&af.onChange, "on-change", "", "run shell `CMD` on each state change, the event as JSON on stdin")
	fs.StringVar(&af.webhook, "webhook", "", "POST each state change as JSON to `URL`")
	fs.IntVar(&af.webhookTries, "webhook-tries", 5, "attempts per webhook event")
	fs.StringVar(&af.metricsListen, "metrics-listen", "", "serve Prometheus metrics on `HOST:PORT`/metrics")
	return cmd
}

const fleetWatchLine = "%-12s  %-*s  %-8s  %-8s  %9s  %s"

func (a *app) fleetWatch(ctx context.Context, m *fleet.Monitor, af alertFlags) error {
	if af.metricsListen != "" {
		addr, stop, err := serveFleetMetrics(af.metricsListen, m)
		if err != nil {
			return &hintedError{err, exitUsage, "pick a free --metrics-listen address"}
		}
		defer stop()
		a.diag("ctl: metrics on http://%s/metrics", addr)
	}
	// Hooks run in order on their own goroutine: a slow receiver delays
	// alerts, never the probes.
	alerts := make(chan fleetStatusView, 4096)
	hooksDone := make(chan struct{})
	go func() {
		defer close(hooksDone)
		for v := range alerts {
			a.runHooks(ctx, af, v)
		}
	}()
	width := hostWidth(a.hosts)
	if !a.out.json() {
		_ = a.out.Line(fmt.Sprintf(fleetWatchLine, "TIME", width, "HOST", "PREVIOUS", "STATE", "RTT", "REASON"))
	}
	m.Run(ctx, func(t fleet.Transition) {
		v := newTransitionView(t)
		if a.out.json() {
			_ = a.out.JSONLine(v)
		} else {
			_ = a.out.Line(fmt.Sprintf(fleetWatchLine, a.clock(v.Time), width, v.Host, v.Previous, v.State, a.rttCell(v), dash(v.Reason)))
		}
		if (af.onChange != "" || af.webhook != "") && (t.From != fleet.Unknown || t.To != fleet.Up) {
			select {
			case alerts <- v:
			default:
				a.diag("ctl: %s: alert queue full, dropped %s -> %s", v.Host, v.Previous, v.State)
			}
		}
	})
	close(alerts)
	<-hooksDone
	return nil
}

func (a *app) runHooks(ctx context.Context, af alertFlags, v fleetStatusView) {
	body, _ := json.Marshal(v) // plain strings and numbers
	if af.onChange != "" {
		if err := runOnChange(ctx, af.onChange, body, v); err != nil {
			a.diag("ctl: %s: --on-change: %v", v.Host, err)
		}
	}
	if af.webhook != "" {
		if err := postWebhook(ctx, af.webhook, body, max(1, af.webhookTries)); err != nil {
			a.diag("ctl: %s: --webhook: %v", v.Host, err)
		}
	}
}

// runOnChange runs the user's command with the shell: a hook is the one
// place ctl runs a program, and only the one the user gave.
func runOnChange(ctx context.Context, command string, body []byte, v fleetStatusView) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var c *exec.Cmd
	if runtime.GOOS == "windows" {
		c = exec.CommandContext(ctx, "cmd", "/C", command)
	} else {
		c = exec.CommandContext(ctx, "/bin/sh", "-c", command)
	}
	c.Stdin = bytes.NewReader(body)
	c.Env = append(c.Environ(), "CTL_FLEET_HOST="+v.Host, "CTL_FLEET_STATE="+v.State, "CTL_FLEET_PREVIOUS="+v.Previous)
	out, err := c.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%w: %s", err, bytes.TrimSpace(out))
	}
	return nil
}

// postWebhook POSTs body, retrying network errors and 5xx/429 answers
// with doubling delays; any other answer is final.
func postWebhook(ctx context.Context, url string, body []byte, tries int) error {
	hc := &http.Client{Timeout: 10 * time.Second}
	delay := 500 * time.Millisecond
	var last error
	for i := range tries {
		if i > 0 {
			t := time.NewTimer(delay)
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
			delay *= 2
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			last = err
			continue
		}
		_ = resp.Body.Close()
		switch {
		case resp.StatusCode < 300:
			return nil
		case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
			last = fmt.Errorf("answered %s", resp.Status)
		default:
			return fmt.Errorf("answered %s (not retried)", resp.Status)
		}
	}
	return fmt.Errorf("gave up after %d tries: %w", tries, last)
}
