package server

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/remotectl/remotectl/client"
	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
	"github.com/remotectl/remotectl/server/service"
)

func TestWatchServicesRequestErrorsAreSynchronous(t *testing.T) {
	t.Setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/remotectl-test-bus")
	c := startBufconn(t, Config{Processes: &stubLister{}, Services: &stubManager{}})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, tc := range []struct {
		req  *pb.WatchServicesRequest
		want error
	}{
		{&pb.WatchServicesRequest{NameGlob: "["}, client.ErrInvalidArgument},
		{&pb.WatchServicesRequest{States: []pb.ServiceState{99}}, client.ErrInvalidArgument},
		{&pb.WatchServicesRequest{States: []pb.ServiceState{pb.ServiceState_SERVICE_STATE_UNSPECIFIED}}, client.ErrInvalidArgument},
		// No systemd on that bus: refused before any event, with the reason.
		{&pb.WatchServicesRequest{}, client.ErrUnavailable},
	} {
		w, err := c.WatchServices(ctx, tc.req)
		if !errors.Is(err, tc.want) || w != nil {
			t.Errorf("%v: got %v, want %v", tc.req, err, tc.want)
		}
	}
}

func TestWatchServicesShutdownEndsStream(t *testing.T) {
	if os.Getenv("DBUS_SYSTEM_BUS_ADDRESS") == "" {
		t.Skip("no systemd: run `scripts/systemd-harness.sh up && . /tmp/remotectl-systemd/env`")
	}
	c, srv := startBufconnServer(t, Config{Processes: &stubLister{}, Services: &stubManager{}, ServiceWatcher: service.NewWatcher()})
	w, err := c.WatchServices(context.Background(), &pb.WatchServicesRequest{NameGlob: "remotectl-test.service", IncludeExisting: true})
	if err != nil {
		t.Skipf("systemd harness not usable: %v", err)
	}
	var got []string
	for ev := range w.Events() {
		got = append(got, ev.GetType().String()+" "+ev.GetName())
		if ev.GetType() == pb.ServiceEventType_SERVICE_EVENT_TYPE_SYNCED {
			break
		}
	}
	if len(got) != 2 || got[0] != "SERVICE_EVENT_TYPE_EXISTING remotectl-test.service" {
		t.Fatalf("initial events %q, want EXISTING remotectl-test.service then SYNCED", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv.Shutdown(ctx)
	for range w.Events() {
	}
	if !errors.Is(w.Err(), client.ErrUnavailable) || !strings.Contains(w.Err().Error(), "shutting down") {
		t.Fatalf("watch ended with %v, want UNAVAILABLE saying the agent is shutting down", w.Err())
	}
}
