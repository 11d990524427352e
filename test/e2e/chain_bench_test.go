package e2e

import (
	"context"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/remotectl/remotectl/client"
	"github.com/remotectl/remotectl/internal/pki"
	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
	"github.com/remotectl/remotectl/server"
)

// helloAgent is the anchor of `make bench-chain`: a bare grpc-go server with
// the agent's mutual TLS configuration and no interceptors, whose Heartbeat
// returns a fixed response captured from the real agent (same size on the
// wire), so the ratio measures the agent's chain, not its handler's inputs.
type helloAgent struct {
	pb.UnimplementedAgentServiceServer
	resp *pb.HeartbeatResponse
}

func (h *helloAgent) Heartbeat(context.Context, *pb.HeartbeatRequest) (*pb.HeartbeatResponse, error) {
	return h.resp, nil
}

// TestHeartbeatChainThroughput: Heartbeat with 50 concurrent callers over
// one mTLS connection, ctld's real server chain (its interceptors, the guard
// with read limits raised out of the way, logging at ctld's default level
// info) against the hello-world server, in alternating rounds of one run.
func TestHeartbeatChainThroughput(t *testing.T) {
	if os.Getenv("REMOTECTL_BENCH_CHAIN") == "" {
		t.Skip("a benchmark: run `make bench-chain` (REMOTECTL_BENCH_CHAIN=1)")
	}
	const callers = 50
	round := 2 * time.Second
	if d, err := time.ParseDuration(os.Getenv("REMOTECTL_BENCH_ROUND")); err == nil {
		round = d
	}
	a := startAgent(t, func(c *server.Config) {
		// ctld's logger: info level, timestamps; discarded instead of a file.
		c.Logger = zerolog.New(io.Discard).Level(zerolog.InfoLevel).With().Timestamp().Logger()
		// The read budget would refuse a benchmark; the limiter still runs.
		c.Limits = server.Limits{ReadsPerSecond: 1e9, ReadBurst: 1 << 30}
	})
	ctld := a.client(t)
	resp, err := ctld.Heartbeat(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	hello := startHello(t, a.certs, resp)
	lanes := []struct {
		name string
		c    *client.Client
	}{{"ctld-chain", ctld}, {"hello-world", hello}}
	best, leastCPU := map[string]float64{}, map[string]float64{}
	for r := range 5 {
		for _, l := range lanes {
			rate, cpu := throughput(t, callers, round, func() error { _, err := l.c.Heartbeat(context.Background()); return err })
			t.Logf("round %d %-11s %8.0f calls/s %6.1f µs CPU/call", r+1, l.name, rate, cpu)
			best[l.name] = max(best[l.name], rate)
			if c, ok := leastCPU[l.name]; !ok || cpu < c {
				leastCPU[l.name] = cpu
			}
		}
	}
	ratio := best["ctld-chain"] / best["hello-world"]
	t.Logf("FIGURE heartbeat %d callers, one mTLS connection: ctld chain %.0f/s vs hello-world grpc-go %.0f/s = %.2fx (target >= 0.8x); CPU per call %.0f µs vs %.0f µs",
		callers, best["ctld-chain"], best["hello-world"], ratio, leastCPU["ctld-chain"], leastCPU["hello-world"])
	if ratio < 0.8 {
		t.Errorf("ctld's chain reaches %.2fx the hello-world server, below 0.8x", ratio)
	}
}

// startHello serves helloAgent with the agent's own server TLS config.
func startHello(t *testing.T, certs pki.Paths, resp *pb.HeartbeatResponse) *client.Client {
	t.Helper()
	tlsCfg, err := pki.ServerTLSConfig(certs.CACert, certs.ServerCert, certs.ServerKey)
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer(grpc.Creds(credentials.NewTLS(tlsCfg)))
	pb.RegisterAgentServiceServer(gs, &helloAgent{resp: resp})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = gs.Serve(lis) }()
	t.Cleanup(gs.Stop)
	c, err := client.New(lis.Addr().String(), client.WithTLSFiles(certs.CACert, certs.ClientCert, certs.ClientKey))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}
