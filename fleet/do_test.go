package fleet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/test/bufconn"

	"github.com/remotectl/remotectl/client"
)

// bufPool dials every host to one in-memory gRPC server, except the hosts
// named "dead*", which refuse connections.
func bufPool(t *testing.T) *Pool {
	lis := bufconn.Listen(1 << 16)
	srv := grpc.NewServer()
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	p := NewPool(DialerFunc(func(_ context.Context, h Host) (*client.Client, error) {
		dial := func(ctx context.Context, _ string) (net.Conn, error) {
			if len(h.Name) >= 4 && h.Name[:4] == "dead" {
				return nil, errors.New("connection refused")
			}
			return lis.DialContext(ctx)
		}
		return client.New("passthrough:///"+h.Name, client.WithInsecure(), client.WithDialOptions(grpc.WithContextDialer(dial)))
	}))
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func hostsN(names ...string) []Host {
	hs := make([]Host, len(names))
	for i, n := range names {
		hs[i] = Host{Name: n}
	}
	return hs
}

func TestDoWindowBatchesAndFailHard(t *testing.T) {
	many := make([]string, 40)
	for i := range many {
		many[i] = fmt.Sprintf("h%02d", i)
	}
	tests := []struct {
		name          string
		hosts         []string
		opts          DoOptions
		failOn        string
		wantMaxFlight int
		wantSkipped   int
		wantErrs      int
	}{
		{"window of 4", many, DoOptions{Parallel: 4}, "", 4, 0, 0},
		{"batches of 25% cap the flight", many, DoOptions{Parallel: 32, BatchPercent: 25}, "", 10, 0, 0},
		{"batch of 3", many[:9], DoOptions{Parallel: 32, Batch: 3}, "", 3, 0, 0},
		{"failhard skips the rest", many, DoOptions{Parallel: 1, FailHard: true}, "h05", 1, 34, 35},
		{"without failhard one failure is one error", many, DoOptions{Parallel: 1}, "h05", 1, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := bufPool(t)
			var flight, maxFlight atomic.Int32
			var mu sync.Mutex
			var order []int
			results := Do(context.Background(), p, hostsN(tt.hosts...), tt.opts, func(_ context.Context, h Host, _ *client.Client) (string, error) {
				n := flight.Add(1)
				defer flight.Add(-1)
				for m := maxFlight.Load(); n > m && !maxFlight.CompareAndSwap(m, n); m = maxFlight.Load() {
				}
				if h.Name == tt.failOn {
					return "", errors.New("boom")
				}
				return "ok " + h.Name, nil
			}, func(r Result[string]) { mu.Lock(); order = append(order, r.Index); mu.Unlock() })
			if int(maxFlight.Load()) > tt.wantMaxFlight {
				t.Errorf("%d hosts in flight, window %d", maxFlight.Load(), tt.wantMaxFlight)
			}
			skipped, errs := 0, 0
			for i, r := range results {
				if r.Host.Name != tt.hosts[i] || r.Index != i {
					t.Fatalf("result %d is %s/%d", i, r.Host.Name, r.Index)
				}
				if r.Err != nil {
					errs++
				}
				if errors.Is(r.Err, ErrSkipped) {
					skipped++
				}
				if r.Err == nil && r.Value != "ok "+r.Host.Name {
					t.Errorf("%s: value %q", r.Host.Name, r.Value)
				}
			}
			if skipped != tt.wantSkipped || errs != tt.wantErrs || len(order) != len(tt.hosts) {
				t.Errorf("skipped %d errors %d emitted %d; want %d %d %d", skipped, errs, len(order), tt.wantSkipped, tt.wantErrs, len(tt.hosts))
			}
		})
	}
}

func TestDoReportsUnreachableHosts(t *testing.T) {
	p := bufPool(t)
	results := Do(context.Background(), p, hostsN("a", "dead1"), DoOptions{}, func(ctx context.Context, _ Host, c *client.Client) (bool, error) {
		_, err := c.Heartbeat(ctx) // the bufconn server has no services: Unimplemented
		return true, err
	}, nil)
	if errors.Is(results[0].Err, ErrUnreachable) || results[0].Err == nil {
		t.Errorf("a is reachable (the call fails otherwise): %v", results[0].Err)
	}
	if !errors.Is(results[1].Err, ErrUnreachable) {
		t.Errorf("dead1: %v, want ErrUnreachable", results[1].Err)
	}
}

func TestSelector(t *testing.T) {
	inv := []Host{
		{Name: "web1", Labels: map[string]string{"role": "web", "env": "prod"}, Groups: []string{"eu"}},
		{Name: "web2", Labels: map[string]string{"role": "web", "env": "stage"}, Groups: []string{"us"}},
		{Name: "db1", Labels: map[string]string{"role": "db", "env": "prod"}, Groups: []string{"eu"}},
	}
	tests := []struct {
		labels string
		groups []string
		names  []string
		want   []string
	}{
		{"role=web", nil, nil, []string{"web1", "web2"}},
		{"role=web,env=prod", nil, nil, []string{"web1"}},
		{"env!=prod", nil, nil, []string{"web2"}},
		{"", []string{"eu"}, nil, []string{"db1", "web1"}},
		{"", nil, []string{"web*"}, []string{"web1", "web2"}},
		{"env=prod", nil, []string{"d*"}, []string{"db1"}},
		{"role=none", nil, nil, []string{}},
	}
	for _, tt := range tests {
		labels, err := ParseLabels(tt.labels)
		if err != nil {
			t.Fatal(err)
		}
		got := Names(Selector{Labels: labels, Groups: tt.groups, Names: tt.names}.Select(inv))
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("%q %v %v: %v, want %v", tt.labels, tt.groups, tt.names, got, tt.want)
		}
	}
	for _, bad := range []string{"role", "=web"} {
		if _, err := ParseLabels(bad); err == nil {
			t.Errorf("ParseLabels(%q) accepted", bad)
		}
	}
}
