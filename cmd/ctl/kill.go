package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/remotectl/remotectl/client"
	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
)

// signalList is the help text's list, in enum order.
func signalList() string { return strings.Join(wireList(processSignalNames), ", ") }

// parseSignal accepts TERM, SIGTERM and term.
func parseSignal(s string) (pb.ProcessSignal, bool) {
	return keyOf(processSignalNames, strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(s)), "SIG"))
}

// endsProcess: the signals whose default action ends the process, after
// which ctl waits by default to report how it ended.
func endsProcess(s pb.ProcessSignal) bool {
	switch s {
	case pb.ProcessSignal_PROCESS_SIGNAL_TERM, pb.ProcessSignal_PROCESS_SIGNAL_KILL,
		pb.ProcessSignal_PROCESS_SIGNAL_INT, pb.ProcessSignal_PROCESS_SIGNAL_QUIT:
		return true
	}
	return false
}

// defaultKillWait is how long ctl kill waits for an ending signal's effect.
const defaultKillWait = 5 * time.Second

// confirmInput is where kill --name reads its confirmation, and whether it
// is a terminal (a variable so tests can answer).
var confirmInput = func() (io.Reader, bool) {
	return os.Stdin, isatty.IsTerminal(os.Stdin.Fd()) || isatty.IsCygwinTerminal(os.Stdin.Fd())
}

type killFlags struct {
	signal, startTime, name, user string
	wait                          time.Duration
	exitCode                      uint32
	yes, dryRun                   bool
}

func (a *app) newKillCmd() *cobra.Command {
	var f killFlags
	cmd := &cobra.Command{
		Use:   "kill PID | kill --name GLOB",
		Short: "Signal or end processes by identity (pid and start time)",
		Long: `Send a signal to a process of the agent's host. The agent acts only on the
process identified by PID and its start time: ctl looks the start time up
(or takes --start-time from ctl ps -o json), and a pid reused by another
process in between is refused (exit 3), never signalled.

Signals: ` + signalList() + ` (default TERM). On Windows TERM and KILL both
terminate the process (TerminateProcess, exit code --exit-code); the other
signals do not exist there. After TERM, KILL, INT and QUIT ctl waits up to
--wait (default ` + defaultKillWait.String() + `) and reports how the process ended; it exits 6 when
the process is still running then.

--name GLOB selects every process whose name matches (and --user's): ctl
lists them, asks for confirmation on a terminal (--yes skips it, and is
required without one), then signals each. --dry-run lists and signals none.

Protected processes are refused with exit 4, naming the rule: pid 1,
kernel threads, the System and Idle processes, ctld and its parent, main
processes of protected services, and the agent's protected_processes and
role_process_allow settings. Every attempt is in the agent's audit log.`,
		Example: `  ctl kill 4242
  ctl kill 4242 --signal KILL --wait 10s -o json
  ctl kill --name 'sleep*' --user build --dry-run
  ctl kill --name 'worker*' --yes`,
		Args: func(cmd *cobra.Command, args []string) error {
			if f.name != "" {
				return noArgs(cmd, args)
			}
			return exactArgs(1, "one PID (or --name GLOB)")(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			sig, ok := parseSignal(f.signal)
			if !ok {
				return usagef("invalid --signal %q: use %s", f.signal, signalList())
			}
			if f.wait < 0 {
				return usagef("invalid --wait %s: must not be negative", f.wait)
			}
			opts := client.SignalOptions{Signal: sig, Wait: f.wait}
			if !cmd.Flags().Changed("wait") && endsProcess(sig) {
				opts.Wait = defaultKillWait
			}
			if cmd.Flags().Changed("exit-code") {
				opts.ExitCode = &f.exitCode
			}
			if f.name != "" {
				return a.killByName(cmd.Context(), f, opts)
			}
			if f.yes || f.dryRun || f.user != "" {
				return usagef("--yes, --dry-run and --user go with --name")
			}
			pid, err := strconv.ParseInt(args[0], 10, 32)
			if err != nil || pid <= 0 {
				return usagef("invalid PID %q: want a positive number", args[0])
			}
			var start time.Time
			if f.startTime != "" {
				if start, err = time.Parse(time.RFC3339Nano, f.startTime); err != nil {
					return usagef("invalid --start-time %q: want RFC 3339, as ctl ps -o json prints it", f.startTime)
				}
			}
			return a.withClient(func(c *client.Client) error {
				return a.killOne(cmd.Context(), c, int32(pid), start, opts)
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.signal, "signal", "s", "TERM", "`SIGNAL` to send: "+signalList())
	fl.DurationVar(&f.wait, "wait", 0, "how long the agent waits for the process to exit, at most "+shortDuration(client.MaxSignalWait)+" (default "+defaultKillWait.String()+" after TERM, KILL, INT, QUIT; else 0)")
	fl.StringVar(&f.startTime, "start-time", "", "the process's start time (RFC 3339, from ctl ps -o json); default: looked up now")
	fl.Uint32Var(&f.exitCode, "exit-code", 1, "Windows: exit code of the terminated process")
	fl.StringVar(&f.name, "name", "", "signal every process whose name matches `GLOB`")
	fl.StringVar(&f.user, "user", "", "with --name: only processes of the user `NAME`")
	fl.BoolVarP(&f.yes, "yes", "y", false, "with --name: do not ask for confirmation")
	fl.BoolVar(&f.dryRun, "dry-run", false, "with --name: list what would be signalled, signal nothing")
	return cmd
}

// killHints refine the generic hints for kill.
func killHints(pid int32) map[int]string {
	return map[int]string{
		exitNotFound: "the process ended, or its pid now names another process; list processes with `ctl ps`",
		exitTimeout:  fmt.Sprintf("it may ignore the signal; try `ctl kill %d --signal KILL`", pid),
	}
}

// identityFields is what kill reads of its targets.
var identityFields = []pb.ProcessField{pb.ProcessField_PROCESS_FIELD_NAME, pb.ProcessField_PROCESS_FIELD_ARGS, pb.ProcessField_PROCESS_FIELD_USER}

func (a *app) killOne(ctx context.Context, c *client.Client, pid int32, start time.Time, opts client.SignalOptions) error {
	op := fmt.Sprintf("kill %d", pid)
	if start.IsZero() {
		resp, err := c.ListProcesses(ctx, &pb.ListProcessesRequest{Filter: &pb.ProcessFilter{Pids: []int32{pid}}, Fields: identityFields})
		if err != nil {
			return wrapOp(op, err, nil)
		}
		if len(resp.GetProcesses()) == 0 {
			return wrapOp(op, fmt.Errorf("%w: no process %d", client.ErrNotFound, pid), killHints(pid))
		}
		start = resp.GetProcesses()[0].GetStartTime().AsTime()
	}
	r, err := c.SignalProcess(ctx, pid, start, opts)
	if err != nil {
		return wrapOp(op, err, killHints(pid))
	}
	v := newKillView(pid, opts, r)
	if a.out.json() {
		err = a.out.JSON(v)
	} else {
		err = a.out.Line(killLine(v))
	}
	if err == nil && opts.Wait > 0 && endsProcess(opts.Signal) && !r.GetExited() {
		return wrapOp(op, fmt.Errorf("%w: process %d still runs %s after %s", client.ErrDeadlineExceeded, pid, opts.Wait, signalName(opts.Signal)), killHints(pid))
	}
	return err
}

func signalName(s pb.ProcessSignal) string {
	if s == pb.ProcessSignal_PROCESS_SIGNAL_UNSPECIFIED {
		s = pb.ProcessSignal_PROCESS_SIGNAL_TERM
	}
	return nameOr(processSignalNames, s)
}

func (a *app) killByName(ctx context.Context, f killFlags, opts client.SignalOptions) error {
	if err := checkGlob(f.name); err != nil {
		return err
	}
	return a.withClient(func(c *client.Client) error {
		resp, err := c.ListProcesses(ctx, &pb.ListProcessesRequest{Filter: &pb.ProcessFilter{NameGlob: f.name, User: f.user}, Fields: identityFields})
		if err != nil {
			return wrapOp("list processes", err, nil)
		}
		procs := resp.GetProcesses()
		fields := fieldSet{}
		for _, fl := range identityFields {
			fields[fl] = true
		}
		if len(procs) == 0 {
			a.diag("no process matches --name %q%s", f.name, map[bool]string{true: " --user " + f.user}[f.user != ""])
			return nil
		}
		if f.dryRun || !a.out.json() {
			if err := a.printKillTargets(procs, fields, f.dryRun); err != nil {
				return err
			}
		}
		if f.dryRun {
			a.diag("dry run: %d process(es) would be sent %s; none was", len(procs), signalName(opts.Signal))
			return nil
		}
		if !f.yes {
			if err := confirm(a, len(procs), signalName(opts.Signal)); err != nil {
				return err
			}
		}
		return a.killEach(ctx, c, procs, opts)
	})
}

func (a *app) printKillTargets(procs []*pb.Process, fields fieldSet, dryRun bool) error {
	views := processViews(procs, fields)
	if a.out.json() {
		return a.out.JSON(views)
	}
	t := a.out.table("PID", "USER", "STARTED", "COMMAND")
	for _, v := range views {
		t.row(strconv.Itoa(int(v.PID)), clean(dash(deref(v.User))), a.out.shortTime(parseTime(v.StartTime)), clean(commandOf(v)))
	}
	return t.flush()
}

// confirm asks on a terminal; without one it refuses (exit 2).
func confirm(a *app, n int, sig string) error {
	in, tty := confirmInput()
	if !tty {
		return usagef("refusing to signal %d process(es) without confirmation: stdin is not a terminal; pass --yes (or --dry-run)", n)
	}
	_, _ = fmt.Fprintf(a.stderr, "Send %s to these %d process(es)? [y/N] ", sig, n)
	line, _ := bufio.NewReader(in).ReadString('\n')
	if ans := strings.ToLower(strings.TrimSpace(line)); ans != "y" && ans != "yes" {
		return &hintedError{errors.New("not confirmed; nothing was signalled"), exitError, ""}
	}
	return nil
}

// killEach signals every target by its listed identity; failures are
// reported one line each and the first decides the exit code.
func (a *app) killEach(ctx context.Context, c *client.Client, procs []*pb.Process, opts client.SignalOptions) error {
	var first error
	failed := 0
	var views []killView
	for _, p := range procs {
		r, err := c.SignalProcess(ctx, p.GetPid(), p.GetStartTime().AsTime(), opts)
		if err != nil {
			failed++
			_, line := describe(wrapOp(fmt.Sprintf("kill %d (%s)", p.GetPid(), clean(p.GetName())), err, nil), "", a.target)
			a.diag("%s", line)
			if first == nil {
				first = err
			}
			continue
		}
		v := newKillView(p.GetPid(), opts, r)
		if a.out.json() {
			views = append(views, v)
		} else if err := a.out.Line(killLine(v)); err != nil {
			return err
		}
	}
	if a.out.json() {
		if err := a.out.JSON(nonNilViews(views)); err != nil {
			return err
		}
	}
	if first != nil {
		return wrapOp(fmt.Sprintf("kill: %d of %d process(es) not signalled; first", failed, len(procs)), first, nil)
	}
	return nil
}

func nonNilViews(v []killView) []killView {
	if v == nil {
		return []killView{}
	}
	return v
}
