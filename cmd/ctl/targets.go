package main

import (
	"fmt"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/remotectl/remotectl/fleet"
	"github.com/remotectl/remotectl/internal/defaults"
)

// hostsFlag is --host: a comma list, repeatable; the first value given
// replaces the default.
type hostsFlag struct {
	vals []string
	set  bool
}

func (h *hostsFlag) String() string { return strings.Join(h.vals, ",") }
func (h *hostsFlag) Type() string   { return "HOSTS" }
func (h *hostsFlag) Set(v string) error {
	if !h.set {
		h.vals, h.set = nil, true
	}
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			h.vals = append(h.vals, p)
		}
	}
	return nil
}

// fleetFlags are the global flags of multi-host runs (docs/fleet.md).
type fleetFlags struct {
	hosts          hostsFlag
	labels         []string
	groups         []string
	parallel       int
	connectTimeout time.Duration
	batch          string
	batchWait      time.Duration
	failHard       bool
	fold           bool
	yes, dryRun    bool
	config         string
	context        string
}

var fleetEnvFallbacks = []struct{ flag, env string }{
	{"parallel", "CTL_PARALLEL"},
	{"connect-timeout", "CTL_CONNECT_TIMEOUT"},
	{"config", "CTL_CONFIG"},
	{"context", "CTL_CONTEXT"},
}

func (a *app) bindFleetFlags(pf *pflag.FlagSet) {
	f := &a.fl
	f.hosts.vals = []string{defaults.Host}
	pf.Var(&f.hosts, "host", "agent address `HOST:PORT`, inventory host name or name glob; comma list, repeatable (env CTL_HOST)")
	pf.Lookup("host").DefValue = defaults.Host
	pf.StringArrayVarP(&f.labels, "selector", "l", nil, "select inventory hosts by labels `k=v[,k2!=v2]` (repeatable)")
	pf.StringSliceVarP(&f.groups, "hostgroup", "g", nil, "select inventory hosts in `GROUP` (repeatable or comma list)")
	pf.IntVar(&f.parallel, "parallel", fleet.DefaultParallel, "hosts in flight at once, a sliding window `N` (env CTL_PARALLEL)")
	pf.DurationVar(&f.connectTimeout, "connect-timeout", fleet.DefaultConnectTimeout, "how long to wait for a connection to each agent; --timeout bounds the call (env CTL_CONNECT_TIMEOUT)")
	pf.StringVar(&f.batch, "batch", "", "roll out in batches of `N` hosts or N% of them")
	pf.DurationVar(&f.batchWait, "batch-wait", 0, "pause `D` between batches")
	pf.BoolVar(&f.failHard, "failhard", false, "start no more hosts after the first failure")
	pf.BoolVar(&f.fold, "group", false, "fold hosts with identical output together (like dshbak -c)")
	pf.BoolVar(&f.yes, "yes", false, "change many hosts without asking")
	pf.BoolVar(&f.dryRun, "dry-run", false, "list the hosts a change would touch, and change nothing")
	pf.StringVar(&f.config, "config", "", "inventory and contexts `FILE` (env CTL_CONFIG; default "+configHint()+")")
	pf.StringVar(&f.context, "context", "", "inventory context `NAME` (env CTL_CONTEXT; default: current-context)")
}

func configHint() string {
	if runtime.GOOS == "windows" {
		return `%AppData%\remotectl\config.yaml`
	}
	if runtime.GOOS == "darwin" {
		return "~/Library/Application Support/remotectl/config.yaml"
	}
	return "$XDG_CONFIG_HOME/remotectl/config.yaml or ~/.config/remotectl/config.yaml"
}

// configPath is --config, else the user's config dir as the app's
// environment tells it (not the process's: tests run with their own).
func (a *app) configPath() string {
	if a.fl.config != "" {
		return a.fl.config
	}
	var dir string
	switch runtime.GOOS {
	case "windows":
		dir = a.env("AppData")
	case "darwin":
		if h := a.env("HOME"); h != "" {
			dir = filepath.Join(h, "Library", "Application Support")
		}
	default:
		dir = a.env("XDG_CONFIG_HOME")
		if h := a.env("HOME"); dir == "" && h != "" {
			dir = filepath.Join(h, ".config")
		}
	}
	if dir == "" {
		return ""
	}
	return filepath.Join(dir, "remotectl", "config.yaml")
}

// inventory loads the config file (empty when there is none).
func (a *app) inventory() (*fleet.Inventory, error) {
	if a.inv != nil {
		return a.inv, nil
	}
	path := a.configPath()
	if path == "" {
		a.inv = &fleet.Inventory{}
		return a.inv, nil
	}
	inv, err := fleet.LoadInventory(path)
	if err != nil {
		return nil, &hintedError{err, exitUsage, "fix the file, or point --config (CTL_CONFIG) elsewhere"}
	}
	a.inv = inv
	return inv, nil
}

// fleetContext is the context in use, or nil without one.
func (a *app) fleetContext() (*fleet.Context, error) {
	inv, err := a.inventory()
	if err != nil {
		return nil, err
	}
	name := orDefault(a.fl.context, inv.CurrentContext)
	if name == "" {
		return nil, nil
	}
	c := inv.Context(name)
	if c == nil {
		return nil, usagef("no context %q in %s", name, a.configPath())
	}
	return c, nil
}

// setupTargets applies the fleet flags' env fallbacks, the context's
// credentials, and resolves --host and the selectors into a.hosts.
func (a *app) setupTargets(cmd *cobra.Command) error {
	global := cmd.Root().PersistentFlags()
	for _, e := range fleetEnvFallbacks {
		if f := global.Lookup(e.flag); f != nil && !f.Changed {
			if v := a.env(e.env); v != "" {
				if err := f.Value.Set(v); err != nil {
					return usagef("invalid %s=%q: %v", e.env, v, err)
				}
			}
		}
	}
	if a.fl.parallel < 1 {
		return usagef("invalid --parallel %d: must be at least 1", a.fl.parallel)
	}
	if a.fl.connectTimeout <= 0 {
		return usagef("invalid --connect-timeout %s: must be positive", a.fl.connectTimeout)
	}
	if _, err := parseBatch(a.fl.batch); err != nil {
		return err
	}
	ctx, err := a.fleetContext()
	if err != nil {
		return err
	}
	if ctx != nil && a.g.cacert == "" && a.g.cert == "" && a.g.key == "" && !a.g.insecure {
		a.g.cacert, a.g.cert, a.g.key, a.g.insecure = ctx.CACert, ctx.Cert, ctx.Key, ctx.Insecure
	}
	var known []fleet.Host
	if ctx != nil {
		known = ctx.Hosts
	}
	sel := fleet.Selector{Groups: a.fl.groups}
	for _, l := range a.fl.labels {
		m, err := fleet.ParseLabels(l)
		if err != nil {
			return usagef("%v", err)
		}
		sel.Labels = append(sel.Labels, m...)
	}
	// Like a bad --host, a bad target only matters to commands that dial.
	if len(a.fl.hosts.vals) == 0 {
		a.fl.hosts.vals = []string{""} // reported as an invalid --host
	}
	a.g.host = a.fl.hosts.vals[0]
	hosts, globbed, err := resolveHosts(a.fl.hosts.vals, known)
	if err != nil {
		a.hostErr = err
		return nil //nolint:nilerr // reported by the commands that dial, like a bad --host
	}
	a.multiHost = len(a.fl.hosts.vals) > 1 || globbed || !sel.Empty()
	if !sel.Empty() {
		if !a.fl.hosts.set {
			hosts = known
		}
		hosts = sel.Select(hosts)
		if len(hosts) == 0 {
			a.hostErr = &hintedError{fmt.Errorf("no host matches the selectors"), exitUsage, "list the hosts with `ctl config view`"}
		}
	}
	a.hosts = hosts
	if len(hosts) > 0 {
		a.g.host = hosts[0].Address()
		if hosts[0].ServerName != "" && a.g.serverName == "" {
			a.g.serverName = hosts[0].ServerName
		}
	}
	return nil
}

// resolveHosts turns --host values into hosts: a glob matches inventory
// names, a name found in the inventory is that host, anything else is an
// address (the default port added). Repeats are dropped.
func resolveHosts(vals []string, known []fleet.Host) (hosts []fleet.Host, globbed bool, err error) {
	seen := map[string]bool{}
	add := func(h fleet.Host) {
		if !seen[h.Name] {
			seen[h.Name] = true
			hosts = append(hosts, h)
		}
	}
	for _, v := range vals {
		if fleet.IsGlob(v) {
			globbed = true
			matched := fleet.Selector{Names: []string{v}}.Select(known)
			if len(matched) == 0 {
				return nil, true, &hintedError{fmt.Errorf("--host %q matches no inventory host", v), exitUsage, "list the hosts with `ctl config view`"}
			}
			for _, h := range matched {
				add(h)
			}
			continue
		}
		if h, ok := findHost(known, v); ok {
			add(h)
			continue
		}
		addr, err := normalizeHost(v)
		if err != nil {
			return nil, false, err
		}
		add(fleet.Host{Name: v, Addr: addr})
	}
	return hosts, globbed, nil
}

func findHost(hosts []fleet.Host, name string) (fleet.Host, bool) {
	for _, h := range hosts {
		if h.Name == name {
			if h.Addr != "" {
				if addr, err := normalizeHost(h.Addr); err == nil {
					h.Addr = addr
				}
			}
			return h, true
		}
	}
	return fleet.Host{}, false
}

// parseBatch reads --batch: "" (no batches), N, or N%.
func parseBatch(s string) (fleet.DoOptions, error) {
	var o fleet.DoOptions
	if s == "" {
		return o, nil
	}
	pct := strings.HasSuffix(s, "%")
	n, err := parsePositive(strings.TrimSuffix(s, "%"))
	if err != nil || (pct && n > 100) {
		return o, usagef("invalid --batch %q: want N or N%% (1-100)", s)
	}
	if pct {
		o.BatchPercent = n
	} else {
		o.Batch = n
	}
	return o, nil
}

func parsePositive(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, usagef("invalid number %q", s)
	}
	return n, nil
}
