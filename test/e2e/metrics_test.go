package e2e

import (
	"bufio"
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/remotectl/remotectl/client"
	"github.com/remotectl/remotectl/internal/testutil"
	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
	"github.com/remotectl/remotectl/server"
	"github.com/remotectl/remotectl/server/metrics"
	"github.com/remotectl/remotectl/test/agenttest"
)

// startAgentWithMetrics is startAgent plus a /metrics listener on loopback;
// it returns the agent and the metrics URL.
func startAgentWithMetrics(t *testing.T) (*agentUnderTest, string) {
	t.Helper()
	m := metrics.New()
	a := agenttest.Start(t, agenttest.Configure(func(c *server.Config) { c.Metrics = m }))
	ep, err := m.Serve("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = ep.Close(ctx)
	})
	return &agentUnderTest{addr: a.Addr, certs: a.PKI.Paths, srv: a.Server}, "http://" + ep.Addr().String() + "/metrics"
}

// scrape fetches the text exposition.
func scrape(t *testing.T, url string) string {
	t.Helper()
	return testutil.Get(t, url)
}

// sample returns the value of the series named name carrying every label
// pair (k="v"), or -1 when there is no such series.
func sample(body, name string, labels ...string) float64 {
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		ok := true
		for i := 0; i+1 < len(labels); i += 2 {
			ok = ok && strings.Contains(line, labels[i]+`="`+labels[i+1]+`"`)
		}
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err == nil {
			return v
		}
	}
	return -1
}

func wantSample(t *testing.T, body string, want float64, name string, labels ...string) {
	t.Helper()
	if got := sample(body, name, labels...); got != want {
		t.Errorf("%s%v = %v, want %v", name, labels, got, want)
	}
}

func TestMetricsEndpoint(t *testing.T) {
	a, url := startAgentWithMetrics(t)
	list := []string{"grpc_service", "remotectl.v1.ProcessService", "grpc_method", "ListProcesses"}

	// Series exist, at zero, before the first call.
	body := scrape(t, url)
	wantSample(t, body, 0, "grpc_server_started_total", list...)
	wantSample(t, body, 0, "remotectl_watch_subscribers")
	wantSample(t, body, 0, "remotectl_watch_events_sent_total", "type", "started")

	c := a.client(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := c.ListProcesses(ctx, &pb.ListProcessesRequest{Limit: 5}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListProcesses(ctx, &pb.ListProcessesRequest{Filter: &pb.ProcessFilter{NameGlob: "[oops"}}); !errors.Is(err, client.ErrInvalidArgument) {
		t.Fatalf("bad glob: %v, want invalid argument", err)
	}
	name := uniqueName("rctlm-")
	existing := spawn(t, namedSleep(t, name), "30")
	w, err := c.WatchProcesses(ctx, &pb.WatchProcessesRequest{Filter: &pb.ProcessFilter{NameGlob: name}, IncludeExisting: true})
	if err != nil {
		t.Fatal(err)
	}
	if ev := recvEvent(t, w.Events(), 5*time.Second); ev.Process.GetPid() != int32(existing.Process.Pid) {
		t.Fatalf("first event %v, want pid %d", ev, existing.Process.Pid)
	}
	recvEvent(t, w.Events(), 5*time.Second) // SYNCED

	body = scrape(t, url)
	wantSample(t, body, 1, "grpc_server_handled_total", append(list, "grpc_code", "OK")...)
	wantSample(t, body, 1, "grpc_server_handled_total", append(list, "grpc_code", "InvalidArgument")...)
	wantSample(t, body, 2, "grpc_server_handling_seconds_count", list...) // the histogram has no code label
	wantSample(t, body, 1, "remotectl_watch_subscribers")
	wantSample(t, body, 1, "remotectl_watch_events_sent_total", "type", "existing")
	wantSample(t, body, 1, "remotectl_watch_events_sent_total", "type", "synced")
	// Only the valid ListProcesses reached the backend.
	wantSample(t, body, 1, "remotectl_backend_call_duration_seconds_count", "backend", "processes", "op", "list")

	// The client leaving ends the subscription with Canceled.
	cancel()
	// The server ends the subscription after the client left, and the gauge
	// and the counter are two updates: scrape (bounded) until both show it.
	testutil.Poll(5*time.Second, func() bool {
		body = scrape(t, url)
		return sample(body, "remotectl_watch_subscribers") == 0 &&
			sample(body, "remotectl_watch_subscriptions_ended_total", "grpc_code", "Canceled") == 1
	})
	wantSample(t, body, 0, "remotectl_watch_subscribers")
	wantSample(t, body, 1, "remotectl_watch_subscriptions_ended_total", "grpc_code", "Canceled")
}
