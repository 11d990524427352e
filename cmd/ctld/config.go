package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"

	"github.com/remotectl/remotectl/internal/defaults"
	"github.com/remotectl/remotectl/internal/pki"
	"github.com/remotectl/remotectl/server/authz"
)

// Config is ctld's configuration. Precedence: flags > environment > file > defaults.
type Config struct {
	Listen   string    `yaml:"listen"`
	StateDir string    `yaml:"state_dir"`
	Insecure bool      `yaml:"insecure"`
	TLS      TLSConfig `yaml:"tls"`
	Log      LogConfig `yaml:"log"`
	// PollInterval is the process watch poll period.
	PollInterval time.Duration `yaml:"poll_interval"`
	// ShutdownTimeout bounds the drain of in-flight calls and streams on stop.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// MetricsListen serves Prometheus /metrics over plain HTTP; empty is
	// off. It must be a loopback address unless MetricsAllowRemote: the
	// endpoint has no authentication.
	MetricsListen      string `yaml:"metrics_listen"`
	MetricsAllowRemote bool   `yaml:"metrics_allow_remote"`
	// Authz maps client identities to roles and limits what roles may
	// control. Empty means the documented defaults: only CN remotectl-admin
	// (the dev PKI's client) is admin; every other identity may only call
	// health, Heartbeat and WhoAmI. Re-read on SIGHUP.
	Authz authz.Config `yaml:"authz"`
	Audit AuditConfig  `yaml:"audit"`
	// Limits bound each client identity (zero: server defaults).
	Limits LimitsConfig `yaml:"limits"`
	// Logs says which logs LogService serves.
	Logs LogsConfig `yaml:"logs"`
	// HTTPListen serves the same API as JSON over HTTPS (same mutual TLS,
	// authorization, audit and limits) on its own port; empty is off.
	HTTPListen string `yaml:"http_listen"`
	// GOMAXPROCS is how many CPUs run ctld's Go code at once; -1 leaves
	// Go's choice (all CPUs, or the cgroup's quota). See defaultGOMAXPROCS.
	GOMAXPROCS int `yaml:"gomaxprocs"`
}

// defaultGOMAXPROCS is one CPU, as node_exporter does: an agent is mostly
// idle between sparse events, and with an idle CPU to spare the Go
// scheduler wakes another thread for every hand-off between goroutines
// (a watch event crosses three). One `ctl ps watch` under 20 started
// processes/s costs 0.83x the CPU on one; a whole-table listing, which
// reads /proc on every CPU, takes 1.4x as long at 1000 processes
// (docs/watch.md). Go's own GOMAXPROCS variable, when set, is left alone.
const defaultGOMAXPROCS = 1

// AuditConfig says where audit records go.
type AuditConfig struct {
	// File receives one JSON line per change and per denial; "-" is
	// stderr; empty means STATE_DIR/audit.log.
	File string `yaml:"file"`
}

// LimitsConfig are the per-identity limits.
type LimitsConfig struct {
	MutationsPerSecond float64 `yaml:"mutations_per_second"`
	MutationBurst      int     `yaml:"mutation_burst"`
	StreamsPerIdentity int     `yaml:"streams_per_identity"`
}

// TLSConfig names the PEM files of the agent's mutual TLS. All empty means
// "use (and on first run create) the dev PKI in STATE_DIR/certs".
type TLSConfig struct {
	CA   string `yaml:"ca"`
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
	// CRL is an optional PEM/DER revocation list signed by the CA.
	CRL string `yaml:"crl"`
	// RevokedSerials are client certificate serials (hex) refused at handshake.
	RevokedSerials []string `yaml:"revoked_serials"`
	// ReloadInterval is how often the certificate, CA, key and CRL files
	// are checked for changes (SIGHUP reloads at once).
	ReloadInterval time.Duration `yaml:"reload_interval"`
}

// LogConfig controls logging.
type LogConfig struct {
	Level  string `yaml:"level"`  // trace, debug, info, warn, error
	Format string `yaml:"format"` // auto (console on a TTY, else JSON), json, console
	File   string `yaml:"file"`   // append to this file instead of stderr
}

func defaultConfig() Config {
	return Config{
		Listen:          defaults.ListenAddr,
		StateDir:        defaults.StateDir(),
		Log:             LogConfig{Level: "info", Format: "auto"},
		PollInterval:    time.Second,
		TLS:             TLSConfig{ReloadInterval: 10 * time.Second},
		ShutdownTimeout: 5 * time.Second,
		GOMAXPROCS:      goMaxProcsDefault(),
	}
}

func goMaxProcsDefault() int {
	if os.Getenv("GOMAXPROCS") != "" {
		return -1 // the runtime applied it already
	}
	return defaultGOMAXPROCS
}

// setting binds one option to its flag, environment variable and config field.
type setting struct {
	flag, env, usage string
	str              *string
	b                *bool
	dur              *time.Duration
	n                *int
}

func settings(c *Config) []setting {
	return []setting{
		{flag: "listen", env: "CTLD_LISTEN", usage: "address to serve gRPC on (HOST:PORT)", str: &c.Listen},
		{flag: "state-dir", env: defaults.StateDirEnv, usage: "state directory (dev certificates live in DIR/certs)", str: &c.StateDir},
		{flag: "insecure", env: "CTLD_INSECURE", usage: "serve plaintext without client authentication; loopback only, for local experiments", b: &c.Insecure},
		{flag: "tls-ca", env: "CTLD_TLS_CA", usage: "CA bundle that client certificates must chain to", str: &c.TLS.CA},
		{flag: "tls-cert", env: "CTLD_TLS_CERT", usage: "server certificate (PEM)", str: &c.TLS.Cert},
		{flag: "tls-key", env: "CTLD_TLS_KEY", usage: "server private key (PEM)", str: &c.TLS.Key},
		{flag: "tls-crl", env: "CTLD_TLS_CRL", usage: "certificate revocation list (PEM or DER) enforced at handshake", str: &c.TLS.CRL},
		{flag: "audit-log", env: "CTLD_AUDIT_LOG", usage: "audit log file, or - for stderr (default STATE_DIR/audit.log)", str: &c.Audit.File},
		{flag: "log-level", env: "CTLD_LOG_LEVEL", usage: "log level: trace, debug, info, warn, error", str: &c.Log.Level},
		{flag: "log-format", env: "CTLD_LOG_FORMAT", usage: "log format: auto, json, console", str: &c.Log.Format},
		{flag: "log-file", env: "CTLD_LOG_FILE", usage: "append logs to this file instead of stderr", str: &c.Log.File},
		{flag: "poll-interval", env: "CTLD_POLL_INTERVAL", usage: "process watch poll interval", dur: &c.PollInterval},
		{flag: "shutdown-timeout", env: "CTLD_SHUTDOWN_TIMEOUT", usage: "how long stop waits for in-flight calls and streams", dur: &c.ShutdownTimeout},
		{flag: "metrics-listen", env: "CTLD_METRICS_LISTEN", usage: "serve Prometheus /metrics over plain HTTP on HOST:PORT (default off)", str: &c.MetricsListen},
		{flag: "streams-per-identity", env: "CTLD_STREAMS_PER_IDENTITY", usage: "concurrent streaming calls (watch, follow) per client identity (default 32; health and reflection do not count)", n: &c.Limits.StreamsPerIdentity},
		{flag: "gomaxprocs", env: "CTLD_GOMAXPROCS", usage: fmt.Sprintf("CPUs that run ctld's code at once; -1 for Go's choice (default %d)", defaultGOMAXPROCS), n: &c.GOMAXPROCS},
		{flag: "http-listen", env: "CTLD_HTTP_LISTEN", usage: "also serve the API as JSON over HTTPS on HOST:PORT, same mTLS and authorization (default off; docs/http.md)", str: &c.HTTPListen},
	}
}

// flagValues holds what was given on the command line, applied last.
type flagValues struct {
	config string
	c      Config
	fs     *pflag.FlagSet
}

func addConfigFlags(fs *pflag.FlagSet) *flagValues {
	fv := &flagValues{fs: fs}
	fs.StringVar(&fv.config, "config", "", "YAML config file (env CTLD_CONFIG; default "+defaults.ConfigFile+" when present)")
	for _, s := range settings(&fv.c) {
		switch {
		case s.str != nil:
			fs.StringVar(s.str, s.flag, "", s.usage+" (env "+s.env+")")
		case s.b != nil:
			fs.BoolVar(s.b, s.flag, false, s.usage+" (env "+s.env+")")
		case s.dur != nil:
			fs.DurationVar(s.dur, s.flag, 0, s.usage+" (env "+s.env+")")
		case s.n != nil:
			fs.IntVar(s.n, s.flag, 0, s.usage+" (env "+s.env+")")
		}
	}
	addLogsFlags(fs, &fv.c)
	return fv
}

// load resolves the configuration: defaults, then the file, then the
// environment, then the flags that were set.
func (fv *flagValues) load() (Config, error) {
	c := defaultConfig()
	path, explicit := fv.config, fv.config != ""
	if !explicit {
		if path = os.Getenv("CTLD_CONFIG"); path != "" {
			explicit = true
		} else {
			path = defaults.ConfigFile
		}
	}
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true) // a typo in a key is an error, not a silent default
		if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
			return c, fmt.Errorf("config %s: %w", path, err)
		}
	case explicit || !errors.Is(err, os.ErrNotExist):
		return c, fmt.Errorf("config: %w", err)
	}
	for _, s := range settings(&c) {
		v, ok := os.LookupEnv(s.env)
		if !ok || v == "" {
			continue
		}
		if err := s.set(v); err != nil {
			return c, fmt.Errorf("environment %s=%q: %w", s.env, v, err)
		}
	}
	flagged := settings(&fv.c)
	for i, s := range settings(&c) {
		if !fv.fs.Changed(s.flag) {
			continue
		}
		f := flagged[i]
		switch {
		case s.str != nil:
			*s.str = *f.str
		case s.b != nil:
			*s.b = *f.b
		case s.dur != nil:
			*s.dur = *f.dur
		case s.n != nil:
			*s.n = *f.n
		}
	}
	applyLogs(&c, &fv.c, fv.fs)
	return c, c.validate()
}

func (s setting) set(v string) error {
	switch {
	case s.str != nil:
		*s.str = v
	case s.b != nil:
		b, err := strconv.ParseBool(v)
		if err != nil {
			return err
		}
		*s.b = b
	case s.dur != nil:
		d, err := time.ParseDuration(v)
		if err != nil {
			return err
		}
		*s.dur = d
	case s.n != nil:
		n, err := strconv.Atoi(v)
		if err != nil {
			return err
		}
		*s.n = n
	}
	return nil
}

func (c *Config) validate() error {
	switch c.Log.Format {
	case "auto", "json", "console":
	default:
		return fmt.Errorf("log format %q: want auto, json or console", c.Log.Format)
	}
	if c.PollInterval < 100*time.Millisecond {
		return fmt.Errorf("poll interval %v is below the 100ms minimum", c.PollInterval)
	}
	if c.GOMAXPROCS == 0 || c.GOMAXPROCS < -1 {
		return fmt.Errorf("gomaxprocs %d: want a CPU count, or -1 for Go's choice", c.GOMAXPROCS)
	}
	if c.ShutdownTimeout <= 0 {
		return fmt.Errorf("shutdown timeout must be positive, not %v", c.ShutdownTimeout)
	}
	if c.StateDir == "" {
		return errors.New("state dir must not be empty")
	}
	if _, err := authz.New(c.Authz); err != nil {
		return err
	}
	if err := c.Logs.validate(); err != nil {
		return err
	}
	for _, serial := range c.TLS.RevokedSerials {
		if _, err := pki.ParseSerial(serial); err != nil {
			return fmt.Errorf("tls.revoked_serials: %w", err)
		}
	}
	if c.TLS.ReloadInterval < time.Second {
		return fmt.Errorf("tls reload interval %v is below the 1s minimum", c.TLS.ReloadInterval)
	}
	if c.MetricsListen != "" && !c.MetricsAllowRemote && !isLoopbackListen(c.MetricsListen) {
		return fmt.Errorf("metrics listen %s is not a loopback address: /metrics is plain HTTP without authentication; bind 127.0.0.1 (scrape through a local proxy) or set metrics_allow_remote: true", c.MetricsListen)
	}
	if c.Limits.MutationsPerSecond < 0 || c.Limits.MutationBurst < 0 || c.Limits.StreamsPerIdentity < 0 {
		return errors.New("limits must not be negative")
	}
	n := 0
	for _, f := range []string{c.TLS.CA, c.TLS.Cert, c.TLS.Key} {
		if f != "" {
			n++
		}
	}
	if n != 0 && n != 3 {
		return errors.New("tls: give all of ca, cert and key, or none to use the dev certificates in STATE_DIR/certs")
	}
	return nil
}
