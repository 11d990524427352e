// Package fleet is the controller library of remotectl: it reaches many
// agents at once. A Pool keeps one lazily connected client per host, all
// made by one Dialer (the only place that knows how an agent is reached, so
// a relay or broker for agents behind NAT plugs in there); Do runs a call
// on many hosts with a sliding window, batches and fail-hard; Follow merges
// the watch streams of many hosts; Monitor tracks each host's health as a
// state machine and emits its transitions.
//
//	pool := fleet.NewPool(fleet.DirectDialer{Options: []client.Option{client.WithTLSFiles(ca, cert, key)}})
//	defer pool.Close()
//	fleet.Do(ctx, pool, hosts, fleet.DoOptions{Parallel: 32}, func(ctx context.Context, h fleet.Host, c *client.Client) (*pb.HeartbeatResponse, error) {
//		return c.Heartbeat(ctx)
//	}, func(r fleet.Result[*pb.HeartbeatResponse]) { ... })
package fleet

import (
	"path"
	"sort"
	"strings"
)

// Host is one agent of the fleet.
type Host struct {
	// Name identifies the host in results and events; unique in a fleet.
	Name string `yaml:"name" json:"name"`
	// Addr is HOST:PORT; empty means Name is the address.
	Addr string `yaml:"address,omitempty" json:"address,omitempty"`
	// ServerName overrides the name expected in the agent's certificate.
	ServerName string            `yaml:"server-name,omitempty" json:"server_name,omitempty"`
	Labels     map[string]string `yaml:"labels,omitempty" json:"labels,omitempty"`
	Groups     []string          `yaml:"groups,omitempty" json:"groups,omitempty"`
}

// Address is where the host's agent listens.
func (h Host) Address() string {
	if h.Addr != "" {
		return h.Addr
	}
	return h.Name
}

// Selector picks hosts from an inventory. Every non-empty part must match:
// all labels, at least one of the groups, at least one of the name globs.
type Selector struct {
	Labels []LabelMatch
	Groups []string
	Names  []string // path.Match globs: web*, db[12]
}

// LabelMatch is key=value, or key!=value when Not is set.
type LabelMatch struct {
	Key, Value string
	Not        bool
}

// ParseLabels parses "k=v,k2!=v2" (the -l syntax of ctl).
func ParseLabels(s string) ([]LabelMatch, error) {
	var out []LabelMatch
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		m := LabelMatch{}
		k, v, ok := strings.Cut(part, "!=")
		if ok {
			m.Not = true
		} else if k, v, ok = strings.Cut(part, "="); !ok {
			return nil, &SelectorError{Input: part, Reason: "want key=value or key!=value"}
		}
		m.Key, m.Value = strings.TrimSpace(k), strings.TrimSpace(v)
		if m.Key == "" {
			return nil, &SelectorError{Input: part, Reason: "empty label key"}
		}
		out = append(out, m)
	}
	return out, nil
}

// SelectorError is a malformed selector.
type SelectorError struct{ Input, Reason string }

func (e *SelectorError) Error() string { return "invalid selector " + `"` + e.Input + `": ` + e.Reason }

// Empty reports whether the selector selects everything.
func (s Selector) Empty() bool { return len(s.Labels) == 0 && len(s.Groups) == 0 && len(s.Names) == 0 }

// Match reports whether h is selected.
func (s Selector) Match(h Host) bool {
	for _, l := range s.Labels {
		v, ok := h.Labels[l.Key]
		if (ok && v == l.Value) == !l.Not {
			continue
		}
		return false
	}
	if len(s.Groups) > 0 && !anyOf(s.Groups, func(g string) bool { return contains(h.Groups, g) }) {
		return false
	}
	if len(s.Names) > 0 && !anyOf(s.Names, func(glob string) bool { ok, _ := path.Match(glob, h.Name); return ok }) {
		return false
	}
	return true
}

// Select returns the hosts s matches, in inventory order.
func (s Selector) Select(hosts []Host) []Host {
	var out []Host
	for _, h := range hosts {
		if s.Match(h) {
			out = append(out, h)
		}
	}
	return out
}

// IsGlob reports whether a host argument is a name pattern.
func IsGlob(s string) bool { return strings.ContainsAny(s, "*?[") }

func anyOf(xs []string, f func(string) bool) bool {
	for _, x := range xs {
		if f(x) {
			return true
		}
	}
	return false
}

func contains(xs []string, s string) bool { return anyOf(xs, func(x string) bool { return x == s }) }

// Names returns the hosts' names, sorted.
func Names(hosts []Host) []string {
	out := make([]string, 0, len(hosts))
	for _, h := range hosts {
		out = append(out, h.Name)
	}
	sort.Strings(out)
	return out
}
