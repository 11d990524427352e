package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/remotectl/remotectl/fleet"
)

// TestFleetMetricsParse checks the hand-written exposition with
// prometheus/common's own parser: every family, sample and label value,
// including values that need escaping.
func TestFleetMetricsParse(t *testing.T) {
	seen := time.Unix(1_700_000_000, 500_000_000)
	statuses := []fleet.Status{
		{Host: "web-1:7443", State: fleet.Up, LastSeen: seen, RTT: 1500 * time.Microsecond},
		{Host: `odd"host\with` + "\nnewline", State: fleet.Down},
		{Host: "db-1:7443", State: fleet.Degraded, LastSeen: seen, RTT: time.Second},
	}
	var b bytes.Buffer
	writeFleetMetrics(&b, statuses)
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(b.String()))
	if err != nil {
		t.Fatalf("prometheus parser refused the page: %v\n%s", err, b.String())
	}
	value := func(family string, labels map[string]string) (float64, bool) {
		f := fams[family]
		if f == nil {
			return 0, false
		}
		if f.GetType() != dto.MetricType_GAUGE {
			t.Errorf("%s: type %v, want gauge", family, f.GetType())
		}
	next:
		for _, m := range f.GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			if len(got) != len(labels) {
				continue
			}
			for k, v := range labels {
				if got[k] != v {
					continue next
				}
			}
			return m.GetGauge().GetValue(), true
		}
		return 0, false
	}
	tests := []struct {
		family string
		labels map[string]string
		want   float64
		absent bool
	}{
		{family: "remotectl_fleet_host_up", labels: map[string]string{"host": "web-1:7443"}, want: 1},
		{family: "remotectl_fleet_host_up", labels: map[string]string{"host": "db-1:7443"}, want: 1},
		{family: "remotectl_fleet_host_up", labels: map[string]string{"host": statuses[1].Host}, want: 0},
		{family: "remotectl_fleet_host_state", labels: map[string]string{"host": statuses[1].Host, "state": "DOWN"}, want: 1},
		{family: "remotectl_fleet_host_state", labels: map[string]string{"host": statuses[1].Host, "state": "UP"}, want: 0},
		{family: "remotectl_fleet_host_state", labels: map[string]string{"host": "db-1:7443", "state": "DEGRADED"}, want: 1},
		{family: "remotectl_fleet_host_state", labels: map[string]string{"host": "web-1:7443", "state": "UNKNOWN"}, want: 0},
		{family: "remotectl_fleet_host_last_seen_timestamp_seconds", labels: map[string]string{"host": "web-1:7443"}, want: 1_700_000_000.5},
		{family: "remotectl_fleet_host_rtt_seconds", labels: map[string]string{"host": "web-1:7443"}, want: 0.0015},
		{family: "remotectl_fleet_host_rtt_seconds", labels: map[string]string{"host": statuses[1].Host}, absent: true},
	}
	for _, tt := range tests {
		got, ok := value(tt.family, tt.labels)
		switch {
		case tt.absent && ok:
			t.Errorf("%s%v: present (%v), want absent (never seen)", tt.family, tt.labels, got)
		case !tt.absent && !ok:
			t.Errorf("%s%v: missing\n%s", tt.family, tt.labels, b.String())
		case !tt.absent && got != tt.want:
			t.Errorf("%s%v = %v, want %v", tt.family, tt.labels, got, tt.want)
		}
	}
	if n := len(fams["remotectl_fleet_host_state"].GetMetric()); n != len(statuses)*len(fleetStates) {
		t.Errorf("state samples: %d, want %d", n, len(statuses)*len(fleetStates))
	}
}
