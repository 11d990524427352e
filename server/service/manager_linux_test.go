package service

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/remotectl/remotectl/internal/errdefs"
)

// These need no systemd: they run wherever the tests run on Linux.

func TestSystemdUnavailable(t *testing.T) {
	t.Setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/remotectl-test/system_bus_socket")
	m := NewManager()
	defer m.Close()
	ctx := testCtx(t)

	st := m.Status(ctx)
	if st.Kind != "systemd" || st.Available || !strings.Contains(st.Reason, "not reachable") ||
		!strings.Contains(st.Reason, "/nonexistent/remotectl-test") {
		t.Errorf("Status = %+v", st)
	}
	errs := map[string]error{}
	_, errs["List"] = m.List(ctx, Filter{})
	_, errs["Get"] = m.Get(ctx, "ssh")
	_, errs["Start"] = m.Start(ctx, "ssh", ControlOptions{})
	_, errs["Stop"] = m.Stop(ctx, "ssh", ControlOptions{})
	_, errs["Restart"] = m.Restart(ctx, "ssh", ControlOptions{})
	for op, err := range errs {
		if !errors.Is(err, errdefs.ErrUnavailable) || !strings.Contains(err.Error(), "service RPCs are unavailable") {
			t.Errorf("%s = %v, want ErrUnavailable", op, err)
		}
	}
}

func TestSystemdInvalidArguments(t *testing.T) {
	// Validation comes before any D-Bus traffic: no systemd needed.
	t.Setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/remotectl-test/system_bus_socket")
	m := NewManager()
	defer m.Close()
	ctx := testCtx(t)
	for _, name := range []string{"../x", "a b", "", strings.Repeat("x", 300), "foo@.service", "sshd.socket", "-x"} {
		_, err := m.Get(ctx, name)
		check := func(op string, err error) {
			if !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Errorf("%s(%.20q) = %v, want ErrInvalidArgument", op, name, err)
			}
		}
		check("Get", err)
		_, err = m.Start(ctx, name, ControlOptions{})
		check("Start", err)
		_, err = m.Stop(ctx, name, ControlOptions{})
		check("Stop", err)
		_, err = m.Restart(ctx, name, ControlOptions{})
		check("Restart", err)
	}
	if _, err := m.Start(ctx, "ssh", ControlOptions{Timeout: -time.Second}); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("negative timeout: %v, want ErrInvalidArgument", err)
	}
	if _, err := m.List(ctx, Filter{NameGlob: "[x"}); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("bad glob: %v, want ErrInvalidArgument", err)
	}
}
