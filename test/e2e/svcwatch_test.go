package e2e

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	sdbus "github.com/coreos/go-systemd/v22/dbus"
	"github.com/godbus/dbus/v5"

	"github.com/remotectl/remotectl/client"
	"github.com/remotectl/remotectl/internal/testutil"
	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
)

// watchUnit is the harness unit only this test touches.
const watchUnit = "remotectl-watch-e2e.service"

// TestServiceWatchLatency starts and stops a real unit 20 times each and
// measures, over loopback mTLS, how long after systemd's own transition
// timestamp (ActiveEnterTimestamp, InactiveEnterTimestamp) the CHANGED event
// reaches the client, and how it relates to StopService returning. Run with
// -v for the figures.
func TestServiceWatchLatency(t *testing.T) {
	c := requireSystemd(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := c.GetService(ctx, watchUnit); err != nil {
		t.Skipf("harness lacks %s (%v): restart it with scripts/systemd-harness.sh down && up", watchUnit, err)
	}
	sd, err := sdbus.NewSystemConnectionContext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer sd.Close()
	// Pin the unit while this connection lives: systemd unloads a stopped
	// unreferenced unit at once, and with it InactiveEnterTimestamp.
	bus, err := dbus.SystemBusPrivate()
	if err == nil {
		if err = bus.Auth(nil); err == nil {
			err = bus.Hello()
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	defer bus.Close()
	if err := bus.Object("org.freedesktop.systemd1", "/org/freedesktop/systemd1").CallWithContext(ctx,
		"org.freedesktop.systemd1.Manager.RefUnit", 0, watchUnit).Err; err != nil {
		t.Fatalf("RefUnit: %v", err)
	}
	since := func(prop string, now time.Time) time.Duration { // now minus systemd's timestamp of the transition
		p, err := sd.GetUnitPropertyContext(ctx, watchUnit, prop)
		if err != nil {
			t.Fatal(err)
		}
		us, _ := p.Value.Value().(uint64)
		return now.Sub(time.UnixMicro(int64(us)))
	}
	if _, err := c.StopService(ctx, watchUnit, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	w, err := c.WatchServices(ctx, &pb.WatchServicesRequest{NameGlob: watchUnit})
	if err != nil {
		t.Fatal(err)
	}
	await := func(want pb.ServiceState) (*pb.ServiceEvent, time.Time) {
		t.Helper()
		for {
			select {
			case ev, ok := <-w.Events():
				if !ok {
					t.Fatalf("stream ended: %v", w.Err())
				}
				if ev.GetName() != watchUnit {
					t.Fatalf("filter let %s through", ev.GetName())
				}
				if ev.GetNewState() == want {
					return ev, time.Now()
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("no %v event within 10 s", want)
			}
		}
	}
	const rounds = 20
	var toRunning, toStopped, afterStopReturn, delivery []time.Duration
	for range rounds {
		// Starts go straight to systemd: the agent rate-limits changes
		// (2/s, burst 10) and only the stops are timed against the RPC.
		done := make(chan string, 1)
		if _, err := sd.StartUnitContext(ctx, watchUnit, "replace", done); err != nil {
			t.Fatal(err)
		}
		if r := <-done; r != "done" {
			t.Fatalf("start job: %s", r)
		}
		ev, got := await(pb.ServiceState_SERVICE_STATE_RUNNING)
		delivery = append(delivery, got.Sub(ev.GetTime().AsTime()))
		toRunning = append(toRunning, since("ActiveEnterTimestamp", got))

		var res time.Time
		var err error
		// Retry while the agent's rate limit refuses (it announces nothing).
		testutil.Poll(30*time.Second, func() bool {
			res, err = stopTimed(ctx, c)
			return !errors.Is(err, client.ErrResourceExhausted)
		})
		if err != nil {
			t.Fatal(err)
		}
		ev, got = await(pb.ServiceState_SERVICE_STATE_STOPPED)
		delivery = append(delivery, got.Sub(ev.GetTime().AsTime()))
		toStopped = append(toStopped, since("InactiveEnterTimestamp", got))
		afterStopReturn = append(afterStopReturn, got.Sub(res))
	}
	cancel()
	for range w.Events() {
	}
	if err := w.Err(); err != nil {
		t.Fatalf("stream ended with %v after cancel", err)
	}
	for _, m := range []struct {
		what string
		d    []time.Duration
	}{
		{"systemd ActiveEnterTimestamp -> CHANGED running at client", toRunning},
		{"systemd InactiveEnterTimestamp -> CHANGED stopped at client", toStopped},
		{"StopService returned -> CHANGED stopped at client (negative: event first)", afterStopReturn},
		{"agent saw the signal (event time) -> client received it", delivery},
	} {
		slices.Sort(m.d)
		t.Logf("%s: n=%d p50=%v p90=%v max=%v", m.what, len(m.d), m.d[len(m.d)/2], m.d[len(m.d)*9/10], m.d[len(m.d)-1])
		if m.d[len(m.d)/2] > time.Second {
			t.Errorf("%s: p50 %v above 1 s: events are not signal-driven", m.what, m.d[len(m.d)/2])
		}
	}
}

// stopTimed stops watchUnit and returns when StopService returned.
func stopTimed(ctx context.Context, c *client.Client) (time.Time, error) {
	_, err := c.StopService(ctx, watchUnit, 10*time.Second)
	return time.Now(), err
}
