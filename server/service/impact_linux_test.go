package service

import (
	"slices"
	"strings"
	"testing"
)

// TestImpactAgainstSystemd resolves changes on the harness's systemd and
// checks that the effects a job would have beyond its target are seen:
// the power-off unit's action and its transaction, a stop's and a restart's
// propagation to units that Requires=/PartOf= the target, and a start's
// Conflicts= (issue 13, findings 1 and 2).
func TestImpactAgainstSystemd(t *testing.T) {
	m := harness(t)
	r, ok := m.(ImpactResolver)
	if !ok {
		t.Fatal("the systemd manager does not resolve impacts")
	}
	ensure(t, m, "remotectl-guard-base", true)
	ensure(t, m, "ctld-guard", true)
	ensure(t, m, "remotectl-guard-conflict", false)
	cases := []struct {
		op           Op
		name         string
		target       string
		stops        []string
		restarts     []string
		starts       []string
		powerAction  string
		dependentErr bool
	}{
		{op: OpStart, name: "systemd-poweroff", target: "systemd-poweroff.service", starts: []string{"shutdown.target"}, powerAction: "SuccessAction=poweroff"},
		{op: OpStop, name: "remotectl-guard-base", target: "remotectl-guard-base.service", stops: []string{"ctld-guard.service"}, dependentErr: true},
		{op: OpRestart, name: "remotectl-guard-base", target: "remotectl-guard-base.service", restarts: []string{"ctld-guard.service"}, dependentErr: true},
		{op: OpStart, name: "remotectl-guard-conflict", target: "remotectl-guard-conflict.service", stops: []string{"ctld-guard.service"}},
		{op: OpStop, name: "remotectl-test", target: "remotectl-test.service"},
	}
	for _, tc := range cases {
		t.Run(string(tc.op)+"-"+tc.name, func(t *testing.T) {
			imp, err := r.Impact(testCtx(t), tc.op, tc.name, ControlOptions{})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%+v", imp)
			if imp.Target != tc.target {
				t.Errorf("target %q, want %q", imp.Target, tc.target)
			}
			for _, want := range tc.stops {
				if !slices.Contains(imp.Stops, want) {
					t.Errorf("stops %v, want %s among them", imp.Stops, want)
				}
			}
			for _, want := range tc.restarts {
				if !slices.Contains(imp.Restarts, want) {
					t.Errorf("restarts %v, want %s among them", imp.Restarts, want)
				}
			}
			for _, want := range tc.starts {
				if !slices.Contains(imp.Starts, want) {
					t.Errorf("starts %v, want %s among them", imp.Starts, want)
				}
			}
			if tc.powerAction != "" && !slices.ContainsFunc(imp.PowerActions, func(a string) bool { return strings.Contains(a, tc.powerAction) }) {
				t.Errorf("power actions %v, want one with %q", imp.PowerActions, tc.powerAction)
			}
			if tc.powerAction == "" && len(imp.PowerActions) > 0 {
				t.Errorf("power actions %v, want none", imp.PowerActions)
			}
			if err := imp.CheckDependents(ControlOptions{}); (err != nil) != tc.dependentErr {
				t.Errorf("CheckDependents without StopDependents: %v, want error %v", err, tc.dependentErr)
			}
		})
	}
}
