package service

import (
	"context"
	"errors"
	"testing"

	"golang.org/x/sys/windows/svc/mgr"

	"github.com/remotectl/remotectl/internal/errdefs"
)

// TestSCMSetStartTypeRoundTrip sets a registered service to every start
// type and back, reading each back through Get (ChangeServiceConfig and the
// delayed auto-start flag of ChangeServiceConfig2).
func TestSCMSetStartTypeRoundTrip(t *testing.T) {
	m := newSCM(t)
	const name = "RemotectlStartType"
	register(t, name, mgr.Config{})
	st, ok := m.(StartTypeSetter)
	if !ok {
		t.Fatal("the SCM backend does not set start types")
	}
	ctx := context.Background()
	prev := StartTypeManual
	for _, c := range []struct {
		t      StartType
		native string
	}{
		{StartTypeDisabled, "DISABLED"},
		{StartTypeManual, "DEMAND_START"},
		{StartTypeAutomaticDelayed, "AUTO_START_DELAYED"},
		{StartTypeAutomatic, "AUTO_START"},
		{StartTypeAutomatic, "AUTO_START"}, // no change
		{StartTypeManual, "DEMAND_START"},
	} {
		r, err := st.SetStartType(ctx, name, c.t, StartTypeOptions{})
		if c.t == StartTypeAutomaticDelayed && errors.Is(err, errdefs.ErrNotSupported) {
			// Wine 8's SCM has no SERVICE_CONFIG_DELAYED_AUTO_START_INFO.
			t.Logf("automatic-delayed not provable on this SCM: %v", err)
			prev = StartTypeAutomatic
			continue
		}
		if err != nil {
			t.Fatalf("set %v: %v", c.t, err)
		}
		if r.PreviousStartType != prev || r.Changed != (prev != c.t) {
			t.Errorf("set %v: previous %v changed %v; want %v, %v", c.t, r.PreviousStartType, r.Changed, prev, prev != c.t)
		}
		got, err := m.Get(ctx, name)
		if err != nil || got.StartType != c.t || got.NativeStartType != c.native {
			t.Fatalf("after set %v, Get says %v (%s), %v", c.t, got.StartType, got.NativeStartType, err)
		}
		prev = c.t
	}
	if _, err := st.SetStartType(ctx, "RemotectlNoSuchService", StartTypeManual, StartTypeOptions{}); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("unknown service: %v", err)
	}
	if _, err := st.SetStartType(ctx, name, StartTypeUnknown, StartTypeOptions{}); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("unknown start type: %v", err)
	}
}

// TestSCMSetStartTypeNow: disabled --now stops a running service; automatic
// --now starts it again.
func TestSCMSetStartTypeNow(t *testing.T) {
	m := newSCM(t)
	const name = "RemotectlStartTypeNow"
	register(t, name, mgr.Config{})
	ctx := context.Background()
	st := m.(StartTypeSetter)
	r, err := st.SetStartType(ctx, name, StartTypeAutomatic, StartTypeOptions{Now: true})
	if err != nil || r.Service.State != StateRunning || r.Service.StartType != StartTypeAutomatic {
		t.Fatalf("automatic --now: %+v, %v", r.Service, err)
	}
	r, err = st.SetStartType(ctx, name, StartTypeDisabled, StartTypeOptions{Now: true})
	if err != nil || r.Service.State != StateStopped || r.Service.StartType != StartTypeDisabled || r.PreviousState != StateRunning {
		t.Fatalf("disabled --now: %+v, %v", r, err)
	}
}
