package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/remotectl/remotectl/client"
	"github.com/remotectl/remotectl/fleet"
	"github.com/remotectl/remotectl/internal/defaults"
	"github.com/remotectl/remotectl/internal/pki"
	"github.com/remotectl/remotectl/internal/version"
)

// globalFlags are the persistent flags; envFallbacks fill the ones not
// given on the command line.
type globalFlags struct {
	host, cacert, cert, key, serverName string
	insecure                            bool
	timeout                             time.Duration
	output                              string
	noHeaders                           bool
	width                               int
}

var envFallbacks = []struct{ flag, env string }{
	{"host", "CTL_HOST"},
	{"cacert", "CTL_CACERT"},
	{"cert", "CTL_CERT"},
	{"key", "CTL_KEY"},
	{"server-name", "CTL_SERVER_NAME"},
	{"timeout", "CTL_TIMEOUT"},
	{"output", "CTL_OUTPUT"},
}

// app is one invocation of ctl; tests build it with their own writers and
// environment instead of the process's.
type app struct {
	setUp          bool // setup ran and succeeded
	stdout, stderr io.Writer
	lookupEnv      func(string) (string, bool)
	width          int       // terminal width of stdout; 0 when not a terminal
	progressTo     io.Writer // progress lines (tests); default: stderr when a terminal
	now            func() time.Time

	g       globalFlags
	hostErr error // invalid --host, reported when dialing
	out     *output
	target  target

	// Fleet runs (targets.go): the fleet flags, the inventory and the
	// resolved hosts; multiHost selects the fan-out output.
	fl        fleetFlags
	inv       *fleet.Inventory
	hosts     []fleet.Host
	multiHost bool
	stdin     io.Reader
	stdinTTY  bool
	diagMu    sync.Mutex // fan-outs report from many goroutines
}

func newApp(stdout, stderr io.Writer, lookupEnv func(string) (string, bool)) *app {
	a := &app{stdout: stdout, stderr: stderr, lookupEnv: lookupEnv, now: time.Now, stdin: os.Stdin, stdinTTY: isatty.IsTerminal(os.Stdin.Fd())}
	a.width = a.stdoutWidth(stdout)
	return a
}

// diag writes one diagnostic line to stderr. A failing stderr leaves
// nowhere to report to, so its error is dropped.
func (a *app) diag(format string, args ...any) {
	a.diagMu.Lock()
	defer a.diagMu.Unlock()
	_, _ = fmt.Fprintf(a.stderr, format+"\n", args...)
}

func (a *app) env(name string) string {
	v, _ := a.lookupEnv(name)
	return v
}

// run executes args and returns the exit code; errors become one line on stderr.
func (a *app) run(ctx context.Context, args []string) int {
	root := a.newRootCmd()
	if len(args) > 0 && strings.HasPrefix(args[0], cobra.ShellCompRequestCmd) {
		a.registerCompletions(root) // only the shell asks: other runs skip the cost
	}
	root.SetArgs(args)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	var fe *fleetExit
	if errors.As(err, &fe) {
		return fe.code // the summary line is already on stderr
	}
	path := strings.TrimPrefix(strings.TrimPrefix(cmd.CommandPath(), root.Name()), " ")
	code, line := describe(a.diagnose(err), path, a.target)
	if code == exitUsage && !strings.Contains(line, "(hint: ") {
		line += fmt.Sprintf(" (hint: see `%s --help`)", cmd.CommandPath())
	}
	a.diag("%s", line)
	return code
}

func (a *app) newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "ctl",
		Short: "Control remotectl agents (ctld): processes, services, heartbeats, certificates",
		Long: `ctl talks to a remotectl agent (ctld) over gRPC with mutual TLS.

Without --cacert/--cert/--key, ctl uses the agent's development certificates
in ` + defaults.CertsDir("STATE_DIR") + ` (ca.crt, client.crt, client.key), where STATE_DIR
is $CTLD_STATE_DIR or the platform default, so it works out of the box as the
user that runs ctld on the agent's host.

Flags fall back to environment variables: CTL_HOST, CTL_CACERT, CTL_CERT,
CTL_KEY, CTL_SERVER_NAME, CTL_TIMEOUT, CTL_OUTPUT. A flag given on the command
line wins over the environment.

Results go to stdout (-o table for people, -o json for scripts); errors go to
stderr as one line: ctl: <what failed>: <reason> (hint: <what to do>).

` + exitCodesHelp,
		SilenceUsage:      true,
		SilenceErrors:     true,
		Args:              unknownSubcommand,
		RunE:              missingSubcommand,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error { return a.setup(cmd) },
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return flagError(err) })
	pf := root.PersistentFlags()
	a.bindFleetFlags(pf)
	pf.StringVar(&a.g.cacert, "cacert", "", "CA bundle that signed the agent's certificate (env CTL_CACERT)")
	pf.StringVar(&a.g.cert, "cert", "", "client certificate, PEM (env CTL_CERT)")
	pf.StringVar(&a.g.key, "key", "", "client private key, PEM (env CTL_KEY)")
	pf.StringVar(&a.g.serverName, "server-name", "", "name expected in the agent's certificate; default: the host of --host (env CTL_SERVER_NAME)")
	pf.BoolVar(&a.g.insecure, "insecure", false, "plaintext without TLS: only for an agent run with --insecure on loopback")
	pf.DurationVar(&a.g.timeout, "timeout", client.DefaultCallTimeout, "deadline of each RPC (env CTL_TIMEOUT)")
	pf.StringVarP(&a.g.output, "output", "o", formatTable, "output `FORMAT`: "+outputFormatsHelp()+" (env CTL_OUTPUT)")
	a.bindOutputFlags(root)
	root.AddCommand(a.newPsCmd(), a.newSvcCmd(), a.newHeartbeatCmd(), a.newWhoamiCmd(), a.newCertsCmd(), a.newVersionCmd())
	root.AddCommand(a.newFleetCmd(), a.newConfigCmd())
	root.AddCommand(a.newKillCmd())
	root.AddCommand(a.newLogsCmd())
	return root
}

// unknownSubcommand rejects stray arguments to a command that only groups
// subcommands (cobra would otherwise print help and exit 0).
func unknownSubcommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	err := fmt.Errorf("unknown command %q for %q", args[0], cmd.CommandPath())
	cmd.SuggestionsMinimumDistance = 2
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		return &hintedError{err, exitUsage, fmt.Sprintf("did you mean `%s %s`?", cmd.CommandPath(), s[0])}
	}
	return &usageError{err}
}

func missingSubcommand(cmd *cobra.Command, _ []string) error {
	var names []string
	for _, c := range cmd.Commands() {
		if c.IsAvailableCommand() {
			names = append(names, c.Name())
		}
	}
	return usagef("missing subcommand: one of %s", strings.Join(names, ", "))
}

// noArgs, exactArgs and minArgs are cobra's validators returning usage errors.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("unexpected argument %q", args[0])
	}
	return nil
}

func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("expected %s, got %d argument(s)", what, len(args))
		}
		return nil
	}
}

func minArgs(n int, what string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) < n {
			return usagef("expected %s", what)
		}
		return nil
	}
}

// setup applies environment fallbacks and validates the global flags. It
// runs once: __complete runs it as the root's PersistentPreRunE and again
// before asking the agent, and a second pass would append CTL_HOST to
// --host again (two hosts, so no single-host command would run).
func (a *app) setup(cmd *cobra.Command) error {
	if a.setUp {
		return nil
	}
	// Look the flags up on the root: a subcommand may shadow one with a
	// local flag of the same name (certs server --host).
	global := cmd.Root().PersistentFlags()
	for _, e := range envFallbacks {
		f := global.Lookup(e.flag)
		if f == nil || f.Changed {
			continue
		}
		if v := a.env(e.env); v != "" {
			if err := f.Value.Set(v); err != nil {
				return usagef("invalid %s=%q: %v", e.env, v, err)
			}
		}
	}
	kind, p, err := parseFormat(a.g.output)
	if err != nil {
		return err
	}
	if a.g.timeout <= 0 {
		return usagef("invalid --timeout %s: must be positive", a.g.timeout)
	}
	if err := a.setupTargets(cmd); err != nil {
		return err
	}
	// A bad --host/CTL_HOST only matters to commands that dial (not certs).
	if host, err := normalizeHost(a.g.host); err == nil {
		a.g.host = host
	} else {
		a.hostErr = err
	}
	if a.g.insecure {
		for _, n := range []string{"cacert", "cert", "key", "server-name"} {
			if flagChanged(global, n) {
				return usagef("--insecure cannot be combined with --%s", n)
			}
		}
	}
	a.target = target{host: a.g.host, serverName: a.g.serverName, cacert: a.g.cacert, cert: a.g.cert, key: a.g.key, insecure: a.g.insecure}
	a.out = &output{w: a.stdout, format: kind, p: p, width: a.width, noHeaders: a.g.noHeaders, now: a.now, loc: time.Local}
	if flagChanged(global, "width") {
		if a.g.width < 0 {
			return usagef("invalid --width %d: must not be negative (0: never cut)", a.g.width)
		}
		a.out.width = a.g.width
	}
	a.setUp = true
	return nil
}

// normalizeHost accepts HOST:PORT, and HOST alone meaning the default port.
func normalizeHost(h string) (string, error) {
	bad := usagef("invalid --host %q: want HOST:PORT, e.g. %s", h, defaults.Host)
	if _, _, err := net.SplitHostPort(h); err != nil {
		h = net.JoinHostPort(strings.Trim(h, "[]"), defaults.Port)
	}
	host, port, err := net.SplitHostPort(h)
	if err != nil || host == "" || strings.ContainsAny(host, " \t/") {
		return "", bad
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", bad
	}
	return h, nil
}

// credentials returns the CA, certificate and key files: the ones given, or
// the agent's dev PKI when none is given.
func (a *app) credentials() (ca, cert, key string, err error) {
	g := a.g
	if g.cacert != "" || g.cert != "" || g.key != "" {
		var missing []string
		for _, m := range []struct{ v, name string }{{g.cacert, "--cacert (CTL_CACERT)"}, {g.cert, "--cert (CTL_CERT)"}, {g.key, "--key (CTL_KEY)"}} {
			if m.v == "" {
				missing = append(missing, m.name)
			}
		}
		if len(missing) > 0 {
			return "", "", "", usagef("--cacert, --cert and --key go together; missing %s", strings.Join(missing, ", "))
		}
		return g.cacert, g.cert, g.key, nil
	}
	stateDirs := defaults.StateDirs()
	if d := a.env(defaults.StateDirEnv); d != "" {
		stateDirs = []string{d}
	}
	const pass = "pass --cacert/--cert/--key (or CTL_CACERT/CTL_CERT/CTL_KEY)"
	var dir string
	var looked []string
	for _, sd := range stateDirs {
		d := defaults.CertsDir(sd)
		looked = append(looked, d)
		if _, err := os.Stat(pki.DevPaths(d).CACert); !errors.Is(err, fs.ErrNotExist) {
			dir = d
			break
		}
	}
	if dir == "" {
		return "", "", "", &hintedError{
			fmt.Errorf("no client certificate: none given, and no %s in %s", pki.CACertFile, strings.Join(looked, " or ")), exitAuth,
			pass + ", or on the agent's host run ctl as the user that runs ctld, or set " + defaults.StateDirEnv + " to its state directory",
		}
	}
	p := pki.DevPaths(dir)
	for _, f := range []string{p.CACert, p.ClientCert, p.ClientKey} {
		fh, err := os.Open(f)
		if err == nil {
			_ = fh.Close()
			continue
		}
		hint := pass
		if errors.Is(err, fs.ErrPermission) {
			hint = "run ctl as the user that runs ctld (e.g. with sudo), or " + pass
		}
		return "", "", "", &hintedError{fmt.Errorf("cannot use the agent's certificates in %s: %w", dir, err), exitAuth, hint}
	}
	a.target.cacert, a.target.cert, a.target.key = p.CACert, p.ClientCert, p.ClientKey
	return p.CACert, p.ClientCert, p.ClientKey, nil
}

// clientOptions are the options of every client ctl makes; credentials
// are read here, once, however many hosts they serve.
func (a *app) clientOptions() ([]client.Option, error) {
	opts := []client.Option{client.WithCallTimeout(a.g.timeout), client.WithUserAgent("ctl/" + version.Version)}
	opts = append(opts, client.WithConnectTimeout(a.g.timeout+client.MaxControlWait)) // each call's deadline rules
	opts = append(opts, transportOptions()...)
	if a.g.insecure {
		return append(opts, client.WithInsecure()), nil
	}
	ca, cert, key, err := a.credentials()
	if err != nil {
		return nil, err
	}
	tc, err := pki.ClientTLSConfig(ca, cert, key, a.g.serverName)
	if err != nil {
		hint := "check --cacert/--cert/--key: the agent's CA and a client certificate it issued (`ctl certs inspect FILE`)"
		if errors.Is(err, fs.ErrPermission) {
			hint = "run ctl as the user that owns the files, or pass readable --cacert/--cert/--key"
		}
		return nil, &hintedError{fmt.Errorf("load TLS credentials: %w", err), exitAuth, hint}
	}
	return append(opts, client.WithTLSConfig(tc)), nil
}

// dial builds a client; it does not connect (the first RPC does).
func (a *app) dial() (*client.Client, error) {
	if a.hostErr != nil {
		return nil, a.hostErr
	}
	opts, err := a.clientOptions()
	if err != nil {
		return nil, err
	}
	return client.New(a.g.host, opts...)
}

// withClient runs fn with a fresh client and closes it afterwards.
func (a *app) withClient(fn func(*client.Client) error) error {
	if a.multiHost { // a command without a fan-out form must not pick one host silently
		return &hintedError{fmt.Errorf("this command works on one host at a time (%d selected)", len(a.hosts)), exitUsage,
			"give one --host (`ctl fleet status` shows every host's agent version)"}
	}
	c, err := a.dial()
	if err != nil {
		return err
	}
	defer func() { _ = c.Close() }()
	return unanswered(c, a.g.host, fn(c))
}

// flagChanged reports whether a flag was given on the command line.
func flagChanged(fs *pflag.FlagSet, name string) bool {
	f := fs.Lookup(name)
	return f != nil && f.Changed
}
