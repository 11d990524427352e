package server

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/remotectl/remotectl/internal/pki"
	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
	"github.com/remotectl/remotectl/server/authz"
	"github.com/remotectl/remotectl/server/service"
)

// harnessManager returns the systemd backend of scripts/systemd-harness.sh
// with its guard units, or skips.
func harnessManager(t *testing.T) service.Manager {
	t.Helper()
	if os.Getenv("DBUS_SYSTEM_BUS_ADDRESS") == "" {
		t.Skip("systemd not reachable: DBUS_SYSTEM_BUS_ADDRESS is unset; run `scripts/systemd-harness.sh up` and source its env")
	}
	m := service.NewManager()
	t.Cleanup(func() { _ = m.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := m.Get(ctx, "remotectl-guard-base"); err != nil {
		t.Skipf("the harness's guard units are missing (%v); restart scripts/systemd-harness.sh", err)
	}
	for _, u := range []string{"remotectl-guard-base", "ctld-guard"} {
		if _, err := m.Start(ctx, u, service.ControlOptions{}); err != nil {
			t.Fatalf("preparing %s: %v", u, err)
		}
	}
	if _, err := m.Stop(ctx, "remotectl-guard-conflict", service.ControlOptions{}); err != nil {
		t.Fatal(err)
	}
	return m
}

func state(t *testing.T, m service.Manager, name string) service.State {
	t.Helper()
	s, err := m.Get(context.Background(), name)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return s.State
}

// TestProtectedServicesStayProtectedOnSystemd drives the real systemd of
// the harness through the agent: a start that powers off, a start whose
// Conflicts= stops a protected unit, a stop and a restart that propagate to
// a protected unit, and a stop that would silently stop a dependent are all
// refused with the rule named, audited, and leave every unit as it was
// (issue 13, findings 1 and 2).
func TestProtectedServicesStayProtectedOnSystemd(t *testing.T) {
	m := harnessManager(t)
	a := startTLSAgentWith(t, Limits{MutationsPerSecond: 100, MutationBurst: 100}, "", m)
	admin, _, _ := a.client(t, "root", pki.WithURI("spiffe://remotectl.test/admin/root"))
	ctx := context.Background()
	cases := []struct {
		name string
		call func() error
		code codes.Code
		want string
	}{
		{"start systemd-poweroff", func() error {
			_, err := admin.StartService(ctx, &pb.StartServiceRequest{Name: "systemd-poweroff"})
			return err
		}, codes.PermissionDenied, `rule power_units "systemd-poweroff*"`},
		{"start a unit that conflicts with a protected one", func() error {
			_, err := admin.StartService(ctx, &pb.StartServiceRequest{Name: "remotectl-guard-conflict"})
			return err
		}, codes.PermissionDenied, `would stop the protected service "ctld-guard.service"`},
		{"stop what a protected unit requires", func() error {
			_, err := admin.StopService(ctx, &pb.StopServiceRequest{Name: "remotectl-guard-base", StopDependents: true})
			return err
		}, codes.PermissionDenied, `would stop the protected service "ctld-guard.service"`},
		{"restart what a protected unit is part of", func() error {
			_, err := admin.RestartService(ctx, &pb.RestartServiceRequest{Name: "remotectl-guard-base", StopDependents: true})
			return err
		}, codes.PermissionDenied, `would restart the protected service "ctld-guard.service"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if status.Code(err) != tc.code || !strings.Contains(status.Convert(err).Message(), tc.want) {
				t.Fatalf("got %v, want %v naming %q", err, tc.code, tc.want)
			}
			if l := lastAudit(t, a.auditPath); l.Event != "denied" || !strings.Contains(l.Message, tc.want) {
				t.Errorf("last audit record %+v, want the denial naming %q", l, tc.want)
			}
		})
	}
	for _, u := range []string{"remotectl-guard-base", "ctld-guard"} {
		if st := state(t, m, u); st != service.StateRunning {
			t.Errorf("%s is %v after the refusals, want running", u, st)
		}
	}
	if st := state(t, m, "remotectl-guard-conflict"); st != service.StateStopped {
		t.Errorf("remotectl-guard-conflict is %v, want stopped", st)
	}
	if pid := os.Getenv("REMOTECTL_SYSTEMD_NS_PID"); pid != "" {
		if comm, err := os.ReadFile("/proc/" + pid + "/comm"); err != nil || strings.TrimSpace(string(comm)) != "systemd" {
			t.Errorf("the harness's systemd (pid %s) is gone: %q %v", pid, comm, err)
		}
	}
}

// TestStopWithoutDependentsRefusedOnSystemd: systemd would stop the units
// that Requires= the target; without stop_dependents the agent refuses and
// names them, as it does on Windows (finding 2).
func TestStopWithoutDependentsRefusedOnSystemd(t *testing.T) {
	m := harnessManager(t)
	a := startTLSAgentWith(t, Limits{MutationsPerSecond: 100, MutationBurst: 100}, "", m)
	// Nothing protected: only the dependents rule is left to refuse.
	p, err := authz.New(authz.Config{ProtectedServices: []string{},
		Bindings: []authz.Binding{{URIPrefix: "spiffe://remotectl.test/admin/", Role: authz.RoleAdmin}}})
	if err != nil {
		t.Fatal(err)
	}
	a.srv.SetPolicy(p)
	admin, _, _ := a.client(t, "root", pki.WithURI("spiffe://remotectl.test/admin/root"))
	_, err = admin.StopService(context.Background(), &pb.StopServiceRequest{Name: "remotectl-guard-base"})
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(status.Convert(err).Message(), "ctld-guard.service") {
		t.Fatalf("got %v, want FailedPrecondition naming ctld-guard.service", err)
	}
	if st := state(t, m, "remotectl-guard-base"); st != service.StateRunning {
		t.Errorf("remotectl-guard-base is %v, want running", st)
	}
}
