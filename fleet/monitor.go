package fleet

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/remotectl/remotectl/client"
)

// Status is what the Monitor knows of one host.
type Status struct {
	Host         string        `json:"host"`
	State        State         `json:"state"`
	Since        time.Time     `json:"since"`
	LastSeen     time.Time     `json:"last_seen"`
	RTT          time.Duration `json:"-"`
	AgentVersion string        `json:"agent_version,omitempty"`
	Uptime       time.Duration `json:"-"`
	Misses       int           `json:"misses"`
	// Reason explains the state: the last error, or why it is degraded.
	Reason string `json:"reason,omitempty"`
	// Err is the last probe's error (nil after an answer).
	Err error `json:"-"`
}

// Transition is a host changing state.
type Transition struct {
	Host   string    `json:"host"`
	From   State     `json:"previous"`
	To     State     `json:"state"`
	At     time.Time `json:"time"`
	Status Status    `json:"-"`
}

// ProbeFunc asks one agent how it is. The default, HeartbeatProbe, calls
// Heartbeat and judges the answer against the policy. ctx ends after
// ConnectTimeout + Timeout; a probe applies Timeout to the call itself.
type ProbeFunc func(ctx context.Context, c *client.Client, p Policy) Observation

// Monitor probes every host on its own jittered schedule and emits state
// transitions. Create it with NewMonitor; Run it once.
type Monitor struct {
	pool   *Pool
	hosts  []Host
	policy Policy
	probe  ProbeFunc

	mu     sync.Mutex
	status map[string]*hostState
	// probeCtx lets tests tell fake probes which host they probe.
	probeCtx func(context.Context, Host) context.Context
}

type hostState struct {
	det    detector
	status Status
	srtt   time.Duration // smoothed RTT, as TCP keeps it
}

// NewMonitor watches hosts through pool; a nil probe is HeartbeatProbe.
func NewMonitor(pool *Pool, hosts []Host, p Policy, probe ProbeFunc) *Monitor {
	if probe == nil {
		probe = HeartbeatProbe
	}
	m := &Monitor{pool: pool, hosts: hosts, policy: p.WithDefaults(), probe: probe, status: map[string]*hostState{}}
	for _, h := range hosts {
		m.status[h.Name] = &hostState{status: Status{Host: h.Name, State: Unknown}}
	}
	return m
}

// Policy is the monitor's policy with its defaults filled in.
func (m *Monitor) Policy() Policy { return m.policy }

// Run probes until ctx ends, calling emit (serially) for every transition,
// including the first one out of UNKNOWN.
func (m *Monitor) Run(ctx context.Context, emit func(Transition)) {
	var (
		wg     sync.WaitGroup
		emitMu sync.Mutex
		// At most Parallel probes run at once; a probe's Timeout starts
		// once it has a slot, so a controller short of CPU delays probes
		// instead of declaring healthy hosts DOWN.
		slots = make(chan struct{}, m.policy.Parallel)
	)
	for _, h := range m.hosts {
		wg.Go(func() {
			// Start at a random point of the first interval, so a
			// thousand hosts are not probed (and handshaken) in one burst.
			wait := time.Duration(rand.Int64N(int64(m.policy.Interval)) + 1)
			b := newBackoff(m.policy.Interval, m.policy.MaxBackoff)
			for {
				t := time.NewTimer(wait)
				select {
				case <-ctx.Done():
					t.Stop()
					return
				case <-t.C:
				}
				select {
				case slots <- struct{}{}:
				case <-ctx.Done():
					return
				}
				tr, changed, missed := m.ProbeOnce(ctx, h)
				<-slots
				if ctx.Err() != nil {
					return
				}
				if changed && emit != nil {
					emitMu.Lock()
					emit(tr)
					emitMu.Unlock()
				}
				// Back off while a DOWN host does not answer (misses before
				// DOWN keep the interval, so DOWN comes in time); once it
				// answers again, probe at the interval so Rise answers come soon.
				if missed && tr.Status.State == Down {
					wait = b.next() + m.policy.Interval/2
				} else {
					b.reset()
					wait = jitter(m.policy.Interval, m.policy.Jitter)
				}
			}
		})
	}
	wg.Wait()
}

// ProbeOnce probes h now and applies the observation; it returns the
// transition if the state changed, and whether the probe missed.
func (m *Monitor) ProbeOnce(ctx context.Context, h Host) (Transition, bool, bool) {
	var o Observation
	c, err := m.pool.Get(ctx, h)
	if err != nil {
		o = Observation{At: time.Now(), Err: err}
	} else {
		m.mu.Lock()
		healthy := m.status[h.Name].status.State == Up
		m.mu.Unlock()
		if !healthy {
			// Redial now instead of after grpc's own backoff, so a
			// returning agent is seen at the next probe.
			c.Conn().ResetConnectBackoff()
		}
		pctx, cancel := context.WithTimeout(ctx, m.policy.ConnectTimeout+m.policy.Timeout)
		if m.probeCtx != nil {
			pctx = m.probeCtx(pctx, h)
		}
		o = m.probe(pctx, c, m.policy)
		cancel()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	hs := m.status[h.Name]
	if o.Err == nil {
		// Lateness is judged on the smoothed RTT (7/8 old + 1/8 new), so
		// an agent hovering around the threshold does not flap.
		if hs.srtt == 0 {
			hs.srtt = o.RTT
		} else {
			hs.srtt = (7*hs.srtt + o.RTT) / 8
		}
		if hs.srtt > m.policy.Late {
			late := fmt.Sprintf("late: smoothed RTT %s", hs.srtt.Round(time.Millisecond))
			if o.Degraded != "" {
				late += "; " + o.Degraded
			}
			o.Degraded = late
		}
	}
	from, changed := hs.det.observe(m.policy, o)
	st := &hs.status
	st.State, st.Since, st.Misses, st.LastSeen = hs.det.state, hs.det.since, hs.det.misses, hs.det.lastSeen
	st.Err = o.Err
	if o.Err == nil {
		st.RTT, st.AgentVersion, st.Uptime, st.Reason = o.RTT, o.AgentVersion, o.Uptime, o.Degraded
	} else {
		st.Reason = oneLine(o.Err.Error())
	}
	tr := Transition{Host: h.Name, From: from, To: st.State, At: o.At, Status: *st}
	return tr, changed, o.Err != nil
}

// Statuses returns every host's status, in the monitor's host order.
func (m *Monitor) Statuses() []Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Status, 0, len(m.hosts))
	for _, h := range m.hosts {
		out = append(out, m.status[h.Name].status)
	}
	return out
}

// HeartbeatProbe calls Heartbeat and judges the answer: a backend
// unavailable, the clock skewed or the certificate near expiry make it
// degraded. (Lateness is the Monitor's call, on the smoothed RTT.)
func HeartbeatProbe(ctx context.Context, c *client.Client, p Policy) Observation {
	// Connecting (TCP, TLS) has its own time limit: a first contact under
	// load is not a late answer.
	if _, err := Connect(ctx, c, p.ConnectTimeout); err != nil {
		return Observation{At: time.Now(), Err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, p.Timeout)
	defer cancel()
	start := time.Now()
	r, err := c.Heartbeat(ctx)
	rtt := time.Since(start)
	o := Observation{At: time.Now(), Err: err, RTT: rtt}
	if err != nil {
		return o
	}
	o.AgentVersion = r.GetAgentVersion()
	if st, at := r.GetServerTime(), r.GetAgentStartTime(); st != nil && at != nil {
		o.Uptime = st.AsTime().Sub(at.AsTime())
	}
	var why []string
	for _, b := range r.GetBackends() {
		if !b.GetAvailable() {
			why = append(why, "backend "+b.GetCapability()+" unavailable")
		}
	}
	if st := r.GetServerTime(); st != nil {
		skew := st.AsTime().Sub(start.Add(rtt / 2))
		if skew > p.MaxSkew || -skew > p.MaxSkew {
			why = append(why, fmt.Sprintf("clock skew %s", skew.Round(time.Millisecond)))
		}
	}
	if na := r.GetServerCertNotAfter(); na != nil && time.Until(na.AsTime()) < p.CertWarn {
		why = append(why, "certificate expires "+na.AsTime().UTC().Format(time.RFC3339))
	}
	o.Degraded = strings.Join(why, "; ")
	return o
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
