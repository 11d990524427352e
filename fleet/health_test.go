package fleet

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/remotectl/remotectl/client"
)

var errMiss = errors.New("no answer")

func TestDetectorStateMachine(t *testing.T) {
	p := Policy{Interval: time.Second, Misses: 3, Grace: time.Second, Rise: 2}.WithDefaults()
	t0 := time.Unix(1000, 0)
	ok := func(s int) Observation { return Observation{At: t0.Add(time.Duration(s) * time.Second)} }
	slow := func(s int) Observation { o := ok(s); o.Degraded = "late"; return o }
	miss := func(s int) Observation { o := ok(s); o.Err = errMiss; return o }
	tests := []struct {
		name string
		obs  []Observation
		want []State // state after each observation
	}{
		{"first answer is UP at once", []Observation{ok(0)}, []State{Up}},
		{"first degraded answer is DEGRADED", []Observation{slow(0)}, []State{Degraded}},
		{"never answering: DOWN after 3 misses", []Observation{miss(0), miss(1), miss(2)}, []State{Unknown, Unknown, Down}},
		{"two misses do not make DOWN", []Observation{ok(0), miss(1), miss(2), ok(3)}, []State{Up, Up, Up, Up}},
		{"three misses make DOWN", []Observation{ok(0), miss(1), miss(2), miss(3)}, []State{Up, Up, Up, Down}},
		{"no answer for the window makes DOWN", []Observation{ok(0), miss(5)}, []State{Up, Down}},
		{"back UP after 2 answers", []Observation{ok(0), miss(1), miss(2), miss(3), ok(4), ok(5)}, []State{Up, Up, Up, Down, Down, Up}},
		{"a lone answer between misses stays DOWN", []Observation{miss(0), miss(1), miss(2), ok(3), miss(4), ok(5)}, []State{Unknown, Unknown, Down, Down, Down, Down}},
		{"one late answer does not degrade", []Observation{ok(0), slow(1), ok(2)}, []State{Up, Up, Up}},
		{"two late answers degrade, two good ones restore", []Observation{ok(0), slow(1), slow(2), ok(3), ok(4)}, []State{Up, Up, Degraded, Degraded, Up}},
		{"DOWN to DEGRADED after 2 degraded answers", []Observation{miss(0), miss(1), miss(2), slow(3), slow(4)}, []State{Unknown, Unknown, Down, Down, Degraded}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d detector
			for i, o := range tt.obs {
				from, changed := d.observe(p, o)
				if d.state != tt.want[i] {
					t.Fatalf("after observation %d: %v, want %v", i, d.state, tt.want[i])
				}
				if changed != (from != d.state) {
					t.Fatalf("observation %d: changed=%v from %v to %v", i, changed, from, d.state)
				}
			}
		})
	}
}

// idleClient is a client that never dials: the probes under test are fakes.
func idleClient(t *testing.T) *client.Client {
	conn, err := grpc.NewClient("passthrough:///idle", grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return client.NewWithConn(conn)
}

// TestMonitorTimings runs the monitor on a fake clock: host b stops
// answering at 10s and answers again from 30s.
func TestMonitorTimings(t *testing.T) {
	c := idleClient(t)
	pool := NewPool(DialerFunc(func(context.Context, Host) (*client.Client, error) { return c, nil }))
	hosts := []Host{{Name: "a"}, {Name: "b"}}
	for _, h := range hosts { // dial outside the bubble
		if _, err := pool.Get(context.Background(), h); err != nil {
			t.Fatal(err)
		}
	}
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var mu sync.Mutex
		probe := func(ctx context.Context, _ *client.Client, _ Policy) Observation {
			host, _ := ctx.Value(hostKey{}).(string)
			el := time.Since(start)
			o := Observation{At: time.Now(), RTT: time.Millisecond}
			if host == "b" && el >= 10*time.Second && el < 30*time.Second {
				o.Err = errMiss
			}
			return o
		}
		p := Policy{Interval: time.Second, Misses: 3, Grace: time.Second, Rise: 2, MaxBackoff: 4 * time.Second}
		m := NewMonitor(pool, hosts, p, probe)
		m.probeCtx = func(ctx context.Context, h Host) context.Context { return context.WithValue(ctx, hostKey{}, h.Name) }
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		var got []Transition
		m.Run(ctx, func(tr Transition) {
			mu.Lock()
			got = append(got, tr)
			mu.Unlock()
		})
		var bDown, bUp time.Duration
		for _, tr := range got {
			el := tr.At.Sub(start)
			switch {
			case tr.Host == "a" && tr.To != Up:
				t.Errorf("host a left UP: %+v", tr)
			case tr.Host == "b" && tr.To == Down:
				bDown = el
			case tr.Host == "b" && tr.From == Down && tr.To == Up:
				bUp = el
			}
		}
		if window := p.Interval*3 + p.Grace; bDown < 10*time.Second || bDown > 10*time.Second+window {
			t.Errorf("b DOWN at %s, want within %s of 10s", bDown, window)
		}
		// The backed-off probe (at most 4s plus half an interval) finds
		// it, the next one an interval (+10%) later confirms it (Rise 2).
		if bUp < 30*time.Second || bUp > 30*time.Second+4500*time.Millisecond+1100*time.Millisecond {
			t.Errorf("b UP again at %s, want soon after 30s", bUp)
		}
		if len(got) != 4 {
			t.Errorf("want 4 transitions (a UP, b UP, b DOWN, b UP), got %d: %+v", len(got), got)
		}
	})
}

type hostKey struct{}

// TestLatenessIsSmoothed: an agent hovering around --late stays UP; one
// that is consistently late becomes DEGRADED.
func TestLatenessIsSmoothed(t *testing.T) {
	c := idleClient(t)
	pool := NewPool(DialerFunc(func(context.Context, Host) (*client.Client, error) { return c, nil }))
	tests := []struct {
		name string
		rtts []int // milliseconds
		want State
		max  int // transitions allowed
	}{
		{"hovering", []int{900, 1100, 950, 1200, 800, 1100, 1000, 1150}, Up, 1},
		{"consistently late", []int{900, 1500, 1500, 1500, 1500, 1500, 1500, 1500}, Degraded, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i := 0
			probe := func(context.Context, *client.Client, Policy) Observation {
				o := Observation{At: time.Unix(int64(i), 0), RTT: time.Duration(tt.rtts[i]) * time.Millisecond}
				i++
				return o
			}
			m := NewMonitor(pool, []Host{{Name: "h"}}, Policy{Late: time.Second, Rise: 2}, probe)
			changes := 0
			for range tt.rtts {
				if _, changed, _ := m.ProbeOnce(context.Background(), Host{Name: "h"}); changed {
					changes++
				}
			}
			if st := m.Statuses()[0]; st.State != tt.want || changes > tt.max {
				t.Errorf("state %v after %d changes (%s); want %v within %d", st.State, changes, st.Reason, tt.want, tt.max)
			}
		})
	}
}
