package e2e

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/remotectl/remotectl/client"
	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
)

// Units installed by scripts/systemd-harness.sh for this package only, so
// that server/service's tests, running in parallel, never see them change.
const (
	testUnit = "remotectl-e2e.service"
	ctlUnit  = "remotectl-ctl.service"
	slowUnit = "remotectl-e2e-slow"
)

// requireSystemd skips unless the project's systemd harness is up, and
// returns a client of an agent using it.
func requireSystemd(t *testing.T) *client.Client {
	t.Helper()
	if os.Getenv("DBUS_SYSTEM_BUS_ADDRESS") == "" {
		t.Skip("no systemd: run `scripts/systemd-harness.sh up && . /tmp/remotectl-systemd/env` (root), or `make test`")
	}
	c := startAgent(t).client(t)
	if _, err := c.GetService(context.Background(), testUnit); err != nil {
		t.Skipf("systemd harness not usable (%v): run `scripts/systemd-harness.sh up`", err)
	}
	return c
}

func serviceState(t *testing.T, c *client.Client, name string) pb.ServiceState {
	t.Helper()
	resp, err := c.ListServices(context.Background(), &pb.ListServicesRequest{NameGlob: name})
	if err != nil || len(resp.Services) != 1 {
		t.Fatalf("ListServices(%s): %v, %v", name, resp.GetServices(), err)
	}
	return resp.Services[0].State
}

func TestServiceControlThroughTheAgent(t *testing.T) {
	c := requireSystemd(t)
	ctx := context.Background()
	// Leave the unit running whatever happens.
	t.Cleanup(func() { _, _ = c.StartService(context.Background(), testUnit, 10*time.Second) })
	if _, err := c.StartService(ctx, testUnit, 10*time.Second); err != nil {
		t.Fatal(err)
	}

	res, err := c.StopService(ctx, testUnit, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Changed || res.PreviousState != pb.ServiceState_SERVICE_STATE_RUNNING || res.Service.State != pb.ServiceState_SERVICE_STATE_STOPPED {
		t.Fatalf("stop: %+v", res)
	}
	if st := serviceState(t, c, testUnit); st != pb.ServiceState_SERVICE_STATE_STOPPED {
		t.Fatalf("after stop, ListServices says %v", st)
	}
	if res, err = c.StopService(ctx, testUnit, 0); err != nil || res.Changed {
		t.Fatalf("second stop must be a no-op: %+v, %v", res, err)
	}

	res, err = c.StartService(ctx, "remotectl-e2e", 10*time.Second) // suffix implied
	if err != nil || !res.Changed || res.Service.State != pb.ServiceState_SERVICE_STATE_RUNNING || res.Service.MainPid <= 0 {
		t.Fatalf("start: %+v, %v", res, err)
	}
	pid := res.Service.MainPid
	res, err = c.RestartService(ctx, testUnit, 10*time.Second)
	if err != nil || res.Service.State != pb.ServiceState_SERVICE_STATE_RUNNING || res.Service.MainPid == pid {
		t.Fatalf("restart must run a new main process (was %d): %+v, %v", pid, res, err)
	}
}

func TestServiceErrorsThroughTheAgent(t *testing.T) {
	c := requireSystemd(t)
	ctx := context.Background()
	cases := []struct {
		name string
		call func() error
		want error
	}{
		{"unknown unit", func() error { _, err := c.StopService(ctx, "no-such-unit-xyz", 0); return err }, client.ErrNotFound},
		{"bad name", func() error { _, err := c.StartService(ctx, "../etc/passwd", 0); return err }, client.ErrInvalidArgument},
		{"masked unit", func() error { _, err := c.StartService(ctx, "remotectl-masked", 5*time.Second); return err }, client.ErrFailedPrecondition},
		{"failing unit", func() error { _, err := c.StartService(ctx, "remotectl-fail", 5*time.Second); return err }, client.ErrFailedPrecondition},
		{"slow unit", func() error { _, err := c.StartService(ctx, slowUnit, 300*time.Millisecond); return err }, client.ErrDeadlineExceeded},
	}
	t.Cleanup(func() { _, _ = c.StopService(context.Background(), slowUnit, 10*time.Second) })
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			t.Logf("%v", err)
		})
	}
}
