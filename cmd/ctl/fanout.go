package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/remotectl/remotectl/client"
	"github.com/remotectl/remotectl/fleet"
)

// fanOp is one command run on many hosts by fanOut.
type fanOp struct {
	op    string // what failed, as in the single-host error line
	hints map[int]string
	// change, for a mutation, is what it does ("stop service nginx"):
	// many hosts then need --yes, a y on a terminal, or --dry-run.
	change string
	call   func(ctx context.Context, h fleet.Host, c *client.Client) (any, error) // returns the JSON view
	// Text output is either lines per host (streamed, "HOST: " first) or
	// a table with a HOST column (one table once every host answered).
	lines  func(v any) []string
	header []string
	rows   func(v any) [][]string
}

// hostResultView is one host of a fan-out's -o json: the result or an error.
type hostResultView struct {
	Host   string     `json:"host"`
	Result any        `json:"result,omitempty"`
	Error  *errorView `json:"error,omitempty"`
}

// errorView is a host's failure; code is one of the fleet error codes
// (docs/fleet.md).
type errorView struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Hint    string `json:"hint,omitempty"`
}

// outcome classes one host's result for the summary line.
type outcome int

const (
	outcomeOK outcome = iota
	outcomeFailed
	outcomeUnreachable
	outcomeTimedOut
	outcomeSkipped
	numOutcomes
)

// outcomeNames are the summary line's words, in its order.
var outcomeNames = [numOutcomes]string{"ok", "failed", "unreachable", "timed out", "skipped"}

// tally counts the hosts of each outcome.
type tally [numOutcomes]int

// String is the summary line's body: "3 ok, 1 failed, 0 unreachable, ...".
func (t *tally) String() string {
	parts := make([]string, numOutcomes)
	for o, name := range outcomeNames {
		parts[o] = fmt.Sprintf("%d %s", t[o], name)
	}
	return strings.Join(parts, ", ")
}

var errorCodes = map[int]string{
	exitError: "error", exitUsage: "invalid_argument", exitNotFound: "not_found", exitAuth: "permission_denied",
	exitUnavailable: "unavailable", exitBackend: "backend_unavailable", exitTimeout: "timeout", exitPrecondition: "failed_precondition",
}

// hostFailure classifies a host's error: its outcome, its JSON view and
// its stderr line.
func (a *app) hostFailure(h fleet.Host, op string, hints map[int]string, err error) (outcome, errorView, string) {
	t := a.target
	t.host = h.Address()
	code, line := describe(wrapOp(op, err, hints), "", t)
	ev := errorView{Code: errorCodes[code], Message: reasonOf(err)}
	if i := strings.Index(line, " (hint: "); i >= 0 {
		ev.Hint = strings.TrimSuffix(line[i+len(" (hint: "):], ")")
	}
	class := outcomeFailed
	switch {
	case errors.Is(err, fleet.ErrSkipped):
		class, ev.Code = outcomeSkipped, "skipped"
	case errors.Is(err, fleet.ErrUnreachable):
		class, ev.Code = outcomeUnreachable, "unreachable"
		if code == exitTimeout {
			ev.Hint = "no connection within --connect-timeout: is the host up and its port reachable?"
			line = line[:strings.Index(line+" (hint: ", " (hint: ")] + " (hint: " + ev.Hint + ")"
		}
	case code == exitTimeout:
		class = outcomeTimedOut
	}
	return class, ev, "ctl: " + h.Name + ": " + strings.TrimPrefix(line, "ctl: ")
}

// fleetPool is a pool of the targets' clients, sharing the credentials.
func (a *app) fleetPool() (*fleet.Pool, error) {
	if a.hostErr != nil {
		return nil, a.hostErr
	}
	opts, err := a.clientOptions()
	if err != nil {
		return nil, err
	}
	return fleet.NewPool(fleet.DirectDialer{Options: opts}), nil
}

func (a *app) doOptions() fleet.DoOptions {
	o, _ := parseBatch(a.fl.batch) // validated in setupTargets
	o.Parallel, o.ConnectTimeout = a.fl.parallel, a.fl.connectTimeout
	o.BatchWait, o.FailHard = a.fl.batchWait, a.fl.failHard
	return o
}

// fanOut runs op on every target: results stream as they arrive (or
// print once at the end for tables, JSON and --group), one summary line
// goes to stderr, and the exit code tells whether all hosts succeeded.
func (a *app) fanOut(ctx context.Context, op fanOp) error {
	if a.hostErr != nil {
		return a.hostErr // before asking to confirm
	}
	if op.change != "" {
		if done, err := a.confirm(op.change); done || err != nil {
			return err
		}
	}
	pool, err := a.fleetPool()
	if err != nil {
		return err
	}
	defer func() { _ = pool.Close() }()
	width := hostWidth(a.hosts)
	stream := !a.out.json() && !a.fl.fold && op.lines != nil
	views := make([]hostResultView, len(a.hosts))
	var counts tally
	start := time.Now()
	var werr error
	fleet.Do(ctx, pool, a.hosts, a.doOptions(), op.call, func(r fleet.Result[any]) {
		views[r.Index] = hostResultView{Host: r.Host.Name, Result: r.Value}
		if r.Err != nil {
			class, ev, line := a.hostFailure(r.Host, op.op, op.hints, r.Err)
			counts[class]++
			views[r.Index] = hostResultView{Host: r.Host.Name, Error: &ev}
			a.diag("%s", line)
			return
		}
		counts[outcomeOK]++
		if stream && werr == nil {
			for _, l := range op.lines(r.Value) {
				if werr = a.out.Line(fmt.Sprintf("%-*s  %s", width, r.Host.Name+":", l)); werr != nil {
					break
				}
			}
		}
	})
	if werr != nil {
		return werr
	}
	if err := a.printFanOut(op, views, stream); err != nil {
		return err
	}
	return a.summarize(len(a.hosts), &counts, time.Since(start))
}

func (a *app) printFanOut(op fanOp, views []hostResultView, streamed bool) error {
	switch {
	case streamed:
		return nil
	case a.out.json():
		return a.out.JSON(views)
	case a.fl.fold:
		return a.printFolded(op, views)
	}
	t := a.out.table(append([]string{"HOST"}, op.header...)...)
	for _, v := range views {
		if v.Error == nil {
			for _, row := range op.rows(v.Result) {
				t.row(append([]string{v.Host}, row...)...)
			}
		}
	}
	return t.flush()
}

// printFolded prints each distinct output once under the hosts that gave
// it, like dshbak -c.
func (a *app) printFolded(op fanOp, views []hostResultView) error {
	var order []string
	hostsOf := map[string][]string{}
	for _, v := range views {
		if v.Error != nil {
			continue
		}
		var text string
		if op.lines != nil {
			text = strings.Join(op.lines(v.Result), "\n")
		} else {
			var buf bytes.Buffer
			o := *a.out
			o.w = &buf
			t := o.table(op.header...)
			for _, row := range op.rows(v.Result) {
				t.row(row...)
			}
			_ = t.flush() // into a buffer
			text = strings.TrimSuffix(buf.String(), "\n")
		}
		if _, ok := hostsOf[text]; !ok {
			order = append(order, text)
		}
		hostsOf[text] = append(hostsOf[text], v.Host)
	}
	for _, text := range order {
		names := compressHosts(hostsOf[text])
		rule := strings.Repeat("-", min(max(len(names), 16), 78))
		for _, l := range append([]string{rule, names, rule}, strings.Split(text, "\n")...) {
			if err := a.out.Line(l); err != nil {
				return err
			}
		}
	}
	return nil
}

// summarize writes the summary line and returns the exit status.
func (a *app) summarize(n int, counts *tally, took time.Duration) error {
	a.diag("ctl: %d hosts: %s (%s)", n, counts, took.Round(time.Millisecond))
	switch {
	case counts[outcomeUnreachable]+counts[outcomeTimedOut] > 0:
		return &fleetExit{exitSomeUnreachable}
	case counts[outcomeFailed]+counts[outcomeSkipped] > 0:
		return &fleetExit{exitSomeFailed}
	}
	return nil
}

// confirm guards a change on many hosts: --dry-run lists them (done),
// --yes or a y on the terminal lets it go on; otherwise it is refused.
func (a *app) confirm(change string) (done bool, err error) {
	names := fleet.Names(a.hosts)
	if a.fl.dryRun {
		if a.out.json() {
			return true, a.out.JSON(struct {
				DryRun bool     `json:"dry_run"`
				Change string   `json:"change"`
				Hosts  []string `json:"hosts"`
			}{true, change, names})
		}
		a.diag("ctl: dry run: would %s on %d hosts:", change, len(names))
		for _, n := range names {
			if err := a.out.Line(n); err != nil {
				return true, err
			}
		}
		return true, nil
	}
	if a.fl.yes || len(a.hosts) < 2 {
		return false, nil
	}
	if !a.stdinTTY {
		return true, &hintedError{fmt.Errorf("%s on %d hosts needs confirmation", change, len(names)), exitUsage,
			"pass --yes to go ahead, or --dry-run to list the hosts"}
	}
	_, _ = fmt.Fprintf(a.stderr, "ctl: %s on %d hosts (%s)? [y/N] ", change, len(names), compressHosts(names))
	answer, _ := bufio.NewReader(a.stdin).ReadString('\n')
	if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
		return true, &hintedError{errors.New("not confirmed: nothing changed"), exitError, ""}
	}
	return false, nil
}

func hostWidth(hosts []fleet.Host) int {
	w := 4
	for _, h := range hosts {
		w = max(w, len(h.Name)+1)
	}
	return w
}
