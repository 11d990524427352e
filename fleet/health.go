package fleet

import (
	"fmt"
	"strings"
	"time"

	"github.com/remotectl/remotectl/internal/defaults"
)

// State is a host's health as the Monitor sees it.
//
//	UNKNOWN  no probe has finished yet
//	UP       the agent answered, in time and healthy
//	DEGRADED the agent answered, but late (smoothed RTT > Late), with a backend
//	         unavailable, with its clock off by more than MaxSkew, or with
//	         a certificate expiring within CertWarn
//	DOWN     Misses consecutive probes failed (no answer within Timeout),
//	         or nothing answered for Interval×Misses+Grace
//
// UNKNOWN moves on at the first verdict: UP or DEGRADED after an answer,
// DOWN after Misses failures. Between UP, DEGRADED and DOWN, a host changes
// to UP or DEGRADED only after Rise consecutive answers saying so, so one
// lucky or unlucky probe does not make it flap; it goes DOWN by the rule
// above.
type State int

// The states.
const (
	Unknown State = iota
	Up
	Degraded
	Down
)

var stateNames = [...]string{"UNKNOWN", "UP", "DEGRADED", "DOWN"}

func (s State) String() string {
	if s < 0 || int(s) >= len(stateNames) {
		return fmt.Sprintf("State(%d)", int(s))
	}
	return stateNames[s]
}

// MarshalText spells the state in JSON as its name.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// ParseState is the inverse of String.
func ParseState(s string) (State, bool) {
	for i, n := range stateNames {
		if strings.EqualFold(n, s) {
			return State(i), true
		}
	}
	return Unknown, false
}

// Policy holds the timings of the health state machine.
type Policy struct {
	// Interval between probes of a host, spread by ±Jitter (a fraction).
	Interval time.Duration
	Jitter   float64
	// Timeout bounds one probe's call; no answer by then is a miss.
	// ConnectTimeout bounds (re)connecting first, when the connection is
	// not up (default 5 s); not connected by then is a miss too.
	Timeout, ConnectTimeout time.Duration
	// Misses consecutive misses make a host DOWN; so does no answer for
	// Interval×Misses+Grace.
	Misses int
	Grace  time.Duration
	// Rise consecutive answers move a host to UP or DEGRADED.
	Rise int
	// Late, MaxSkew and CertWarn are the DEGRADED thresholds.
	Late, MaxSkew, CertWarn time.Duration
	// MaxBackoff caps the probe interval of a DOWN host, which doubles
	// (with jitter) from Interval, so a dead fleet costs little.
	MaxBackoff time.Duration
	// Parallel caps the probes in flight (default 256); Timeout counts
	// from a probe's start, not from its wait for a slot.
	Parallel int
}

// DefaultPolicy is what ctl fleet watch uses without flags: a dead agent
// is DOWN within 3×5s+5s = 20s, back UP within MaxBackoff + 1.6×Interval
// (the backed-off probe that finds it, then one more answer) = 18s.
var DefaultPolicy = Policy{
	Interval: 5 * time.Second, Jitter: 0.1, Timeout: 3 * time.Second, ConnectTimeout: DefaultConnectTimeout,
	Misses: 3, Grace: 5 * time.Second, Rise: 2,
	Late: time.Second, MaxSkew: 30 * time.Second, CertWarn: 14 * 24 * time.Hour,
	MaxBackoff: 10 * time.Second, Parallel: 256,
}

// WithDefaults fills the zero fields from DefaultPolicy.
func (p Policy) WithDefaults() Policy {
	d := DefaultPolicy
	defaults.Fill(&p.Interval, d.Interval)
	if p.Jitter < 0 || p.Jitter >= 1 {
		p.Jitter = d.Jitter
	}
	if p.Timeout <= 0 {
		p.Timeout = min(d.Timeout, p.Interval)
	}
	defaults.Fill(&p.ConnectTimeout, d.ConnectTimeout)
	defaults.Fill(&p.Misses, d.Misses)
	if p.Grace <= 0 {
		p.Grace = p.Interval
	}
	defaults.Fill(&p.Rise, d.Rise)
	defaults.Fill(&p.Late, d.Late)
	defaults.Fill(&p.MaxSkew, d.MaxSkew)
	defaults.Fill(&p.CertWarn, d.CertWarn)
	if p.MaxBackoff < p.Interval {
		p.MaxBackoff = 2 * p.Interval
	}
	defaults.Fill(&p.Parallel, d.Parallel)
	return p
}

// DownWindow is the longest time without an answer before DOWN.
func (p Policy) DownWindow() time.Duration { return p.Interval*time.Duration(p.Misses) + p.Grace }

// Observation is the outcome of one probe.
type Observation struct {
	At  time.Time
	Err error // nil: the agent answered
	// Degraded is why an answer is not healthy ("" when it is).
	Degraded     string
	RTT          time.Duration
	AgentVersion string
	Uptime       time.Duration // the agent's
}

// detector is one host's state machine; it is pure (no clock of its own)
// so the rules above are tested observation by observation.
type detector struct {
	state    State
	since    time.Time // when state was entered
	misses   int
	pending  State // the UP/DEGRADED state being confirmed
	streak   int
	lastSeen time.Time
	first    time.Time // first observation, for the window before any answer
}

// observe applies o and reports the previous state when it changed.
func (d *detector) observe(p Policy, o Observation) (from State, changed bool) {
	if d.first.IsZero() {
		d.first = o.At
	}
	next := d.state
	if o.Err != nil {
		d.misses++
		d.streak = 0
		ref := d.lastSeen
		if ref.IsZero() {
			ref = d.first
		}
		if d.misses >= p.Misses || o.At.Sub(ref) >= p.DownWindow() {
			next = Down
		}
	} else {
		d.misses = 0
		d.lastSeen = o.At
		target := Up
		if o.Degraded != "" {
			target = Degraded
		}
		switch d.state {
		case Unknown:
			next = target
		case target:
			d.streak = 0
		default:
			if d.pending != target || d.streak == 0 {
				d.pending, d.streak = target, 0
			}
			d.streak++
			if d.streak >= p.Rise {
				next = target
			}
		}
	}
	if next == d.state {
		return d.state, false
	}
	from = d.state
	d.state, d.since, d.streak = next, o.At, 0
	return from, true
}
