package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/remotectl/remotectl/fleet"
)

// The fleet view's /metrics writes four gauge families in the Prometheus
// text exposition format (version 0.0.4) itself rather than through
// client_golang: importing client_golang runs its package init (default
// registry, Go and process collectors, procfs) in every ctl invocation, about
// 1 ms of each `ctl ps` (perf, 50 runs), for a page only `fleet watch
// --metrics-listen` serves. TestFleetMetricsParse checks the page with
// prometheus/common's own parser.

const metricsContentType = "text/plain; version=0.0.4; charset=utf-8"

// fleetStates are the values of remotectl_fleet_host_state's state label.
var fleetStates = []fleet.State{fleet.Unknown, fleet.Up, fleet.Degraded, fleet.Down}

// writeFleetMetrics renders the monitor's statuses.
func writeFleetMetrics(b *bytes.Buffer, statuses []fleet.Status) {
	family := func(name, help string, each func(s fleet.Status)) {
		fmt.Fprintf(b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name)
		for _, s := range statuses {
			each(s)
		}
	}
	sample := func(name string, v float64, labels ...string) {
		b.WriteString(name)
		b.WriteByte('{')
		for i := 0; i < len(labels); i += 2 {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(labels[i])
			b.WriteString(`="`)
			b.WriteString(labelEscaper.Replace(labels[i+1]))
			b.WriteByte('"')
		}
		b.WriteString("} ")
		b.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
		b.WriteByte('\n')
	}
	family("remotectl_fleet_host_up", "1 when the host's agent answers (UP or DEGRADED), else 0.", func(s fleet.Status) {
		sample("remotectl_fleet_host_up", boolGauge(s.State == fleet.Up || s.State == fleet.Degraded), "host", s.Host)
	})
	family("remotectl_fleet_host_state", "1 for the host's current state.", func(s fleet.Status) {
		for _, st := range fleetStates {
			sample("remotectl_fleet_host_state", boolGauge(st == s.State), "host", s.Host, "state", st.String())
		}
	})
	family("remotectl_fleet_host_last_seen_timestamp_seconds", "When the host's agent last answered (Unix time).", func(s fleet.Status) {
		if !s.LastSeen.IsZero() {
			sample("remotectl_fleet_host_last_seen_timestamp_seconds", float64(s.LastSeen.UnixNano())/1e9, "host", s.Host)
		}
	})
	family("remotectl_fleet_host_rtt_seconds", "Round-trip time of the host's last answered probe.", func(s fleet.Status) {
		if !s.LastSeen.IsZero() {
			sample("remotectl_fleet_host_rtt_seconds", s.RTT.Seconds(), "host", s.Host)
		}
	})
}

// labelEscaper escapes a label value as the text format requires.
var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

func boolGauge(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func serveFleetMetrics(addr string, m *fleet.Monitor) (bound string, stop func(), err error) {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("metrics listen on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, _ *http.Request) {
		var b bytes.Buffer
		writeFleetMetrics(&b, m.Statuses())
		w.Header().Set("Content-Type", metricsContentType)
		_, _ = w.Write(b.Bytes())
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(lis) }()
	return lis.Addr().String(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}
