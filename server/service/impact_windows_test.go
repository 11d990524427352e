package service

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/windows/svc/mgr"

	"github.com/remotectl/remotectl/internal/errdefs"
)

// TestSCMImpactNamesRunningDependents: the resolver lists the running
// dependents a stop (with stop_dependents) would stop and a restart would
// restart, so the guard can apply the protected and allow-list rules to
// each of them before the SCM stops them (issue 13, finding 2).
func TestSCMImpactNamesRunningDependents(t *testing.T) {
	m := newSCM(t)
	ctx := context.Background()
	register(t, "RemotectlImpBase", mgr.Config{})
	register(t, "RemotectlImpUser", mgr.Config{Dependencies: []string{"RemotectlImpBase"}})
	opts := ControlOptions{Timeout: 30 * time.Second}
	for _, n := range []string{"RemotectlImpBase", "RemotectlImpUser"} {
		if _, err := m.Start(ctx, n, opts); err != nil {
			t.Fatalf("start %s: %v", n, err)
		}
	}
	r := m.(ImpactResolver)
	stop, err := r.Impact(ctx, OpStop, "remotectlimpbase", opts)
	if err != nil || stop.Target != "RemotectlImpBase" || !slices.Equal(stop.Stops, []string{"RemotectlImpUser"}) {
		t.Fatalf("stop impact = %+v, %v; want the canonical name and the running dependent", stop, err)
	}
	if err := stop.CheckDependents(opts); !errors.Is(err, errdefs.ErrFailedPrecondition) {
		t.Errorf("without stop_dependents: %v, want FailedPrecondition", err)
	}
	restart, err := r.Impact(ctx, OpRestart, "RemotectlImpBase", opts)
	if err != nil || !slices.Equal(restart.Restarts, []string{"RemotectlImpUser"}) {
		t.Errorf("restart impact = %+v, %v", restart, err)
	}
	if start, err := r.Impact(ctx, OpStart, "RemotectlImpUser", opts); err != nil || len(start.Touched()) != 1 {
		t.Errorf("start impact = %+v, %v; want the target only", start, err)
	}
	if _, err := r.Impact(ctx, OpStop, "RemotectlNoSuchService", opts); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("unknown service: %v, want NotFound", err)
	}
}
