package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/remotectl/remotectl/client"
	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
)

// procFlags are the filter and field flags shared by `ps` and `ps watch`.
type procFlags struct {
	name, user string
	pids       []int32
	ppid       int32
	fields     []string
}

func (f *procFlags) bind(fs *pflag.FlagSet) {
	fs.StringVar(&f.name, "name", "", "only processes whose name matches `GLOB` (e.g. 'ssh*'; * ? [a-z])")
	fs.StringVar(&f.user, "user", "", "only processes of the user `NAME`")
	fs.Int32SliceVar(&f.pids, "pid", nil, "only these `PID`s (repeatable or comma list)")
	fs.Int32Var(&f.ppid, "ppid", 0, "only children of `PID`")
	fs.StringSliceVar(&f.fields, "fields", nil, "optional fields to read, comma list of "+fieldList+" (default all)")
}

// request validates the flags and builds the filter and field selection.
func (f *procFlags) request(fs *pflag.FlagSet) (*pb.ProcessFilter, []pb.ProcessField, fieldSet, error) {
	if err := checkGlob(f.name); err != nil {
		return nil, nil, nil, err
	}
	for _, p := range f.pids {
		if p <= 0 {
			return nil, nil, nil, usagef("invalid --pid %d: must be positive", p)
		}
	}
	filter := &pb.ProcessFilter{NameGlob: f.name, User: f.user, Pids: f.pids}
	if flagChanged(fs, "ppid") {
		if f.ppid < 0 {
			return nil, nil, nil, usagef("invalid --ppid %d: must not be negative", f.ppid)
		}
		filter.Ppid = &f.ppid
	}
	if len(f.fields) == 0 {
		return filter, nil, allFields(), nil
	}
	var list []pb.ProcessField
	set := fieldSet{}
next:
	for _, name := range f.fields {
		name = strings.ToLower(strings.TrimSpace(name))
		for _, n := range processFieldNames {
			if n.name == name {
				if !set[n.field] {
					list = append(list, n.field)
				}
				set[n.field] = true
				continue next
			}
		}
		return nil, nil, nil, usagef("unknown field %q in --fields: use %s", name, fieldList)
	}
	return filter, list, set, nil
}

var sortNames = map[string]pb.ProcessSort{
	"pid":    pb.ProcessSort_PROCESS_SORT_PID,
	"cpu":    pb.ProcessSort_PROCESS_SORT_CPU,
	"mem":    pb.ProcessSort_PROCESS_SORT_MEMORY,
	"memory": pb.ProcessSort_PROCESS_SORT_MEMORY,
}

func (a *app) newPsCmd() *cobra.Command {
	var (
		pf     procFlags
		top    uint32
		sortBy string
	)
	cmd := &cobra.Command{
		Use:   "ps",
		Short: "List the agent's processes",
		Long: `List the processes of the agent's host, filtered, sorted and limited by the agent.

The table shows PID PPID USER S(tate) CPU% RSS VSZ THR(eads) STARTED COMMAND;
COMMAND is the command line, or [name] for kernel threads. A dash means the
field was not requested (--fields) or could not be read. -o json prints one
array of process objects (docs/cli.md lists the keys).`,
		Example: `  ctl ps --top 5 --sort cpu
  ctl ps --name 'nginx*' --user www-data
  ctl ps --pid 1,2 -o json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			filter, fieldList, fields, err := pf.request(cmd.Flags())
			if err != nil {
				return err
			}
			s, ok := sortNames[strings.ToLower(sortBy)]
			if !ok {
				return usagef("invalid --sort %q: use pid, cpu or mem", sortBy)
			}
			req := &pb.ListProcessesRequest{Filter: filter, Sort: s, Limit: top, Fields: fieldList}
			if a.multiHost {
				return a.fleetPs(cmd.Context(), req, fields)
			}
			return a.withClient(func(c *client.Client) error {
				resp, err := c.ListProcesses(cmd.Context(), req)
				if err != nil {
					return wrapOp("list processes", err, nil)
				}
				if n := len(resp.GetProcesses()); top > 0 && int(resp.GetTotalMatched()) > n {
					a.diag("%d of %d processes", n, resp.GetTotalMatched())
				}
				return a.printProcesses(resp.GetProcesses(), fields)
			})
		},
	}
	pf.bind(cmd.Flags())
	cmd.Flags().Uint32Var(&top, "top", 0, "show at most `N` processes after sorting (0: all)")
	cmd.Flags().StringVar(&sortBy, "sort", "pid", "order: pid, cpu or mem (cpu and mem descending)")
	cmd.AddCommand(a.newPsWatchCmd())
	return cmd
}

func (a *app) printProcesses(procs []*pb.Process, fields fieldSet) error {
	return printList(a, processViews(procs, fields), a.processHeader(), a.processCells)
}

func processViews(procs []*pb.Process, fields fieldSet) []processView {
	return viewsOf(procs, func(p *pb.Process) processView { return newProcessView(p, fields) })
}

// processHeader is the process table's header; -o wide adds ps's TIME (CPU
// time used) before COMMAND.
func (a *app) processHeader() []string {
	h := []string{"PID", "PPID", "USER", "S", "CPU%", "RSS", "VSZ", "THR", "STARTED", "COMMAND"}
	if a.out.wide() {
		h = slices.Insert(h, len(h)-1, "TIME")
	}
	return h
}

// processCells is one process's table row (also under HOST on many hosts).
func (a *app) processCells(v processView) []string {
	cells := []string{strconv.Itoa(int(v.PID)), strconv.Itoa(int(v.PPID)), dash(deref(v.User)), statusLetter(v),
		fmtPtr(v.CPUPercent, func(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }),
		fmtPtr(v.RSSBytes, humanBytes), fmtPtr(v.VSZBytes, humanBytes),
		fmtPtr(v.Threads, func(n int32) string { return strconv.Itoa(int(n)) }),
		a.out.shortTime(parseTime(v.StartTime)), commandOf(v)}
	if a.out.wide() {
		cells = slices.Insert(cells, len(cells)-1, cpuTime(v))
	}
	return cells
}

// commandOf is the COMMAND column: the command line; like ps, [name] for a
// kernel thread (args read and empty, no executable) and "[name] <defunct>"
// for a zombie; the bare name when the args were not read or are empty for
// a process that has an executable (unreadable argv is not a kernel thread).
func commandOf(v processView) string {
	if len(v.Args) > 0 {
		return strings.Join(v.Args, " ")
	}
	name := deref(v.Name)
	if v.Args == nil || name == "" {
		return dash(name)
	}
	switch {
	case deref(v.Status) == processStatusNames[pb.ProcessStatus_PROCESS_STATUS_ZOMBIE]:
		return "[" + name + "] <defunct>"
	case deref(v.Exe) == "":
		return "[" + name + "]"
	}
	return name
}

func statusLetter(v processView) string {
	if v.Status == nil {
		return "-"
	}
	for st, n := range processStatusNames {
		if n == *v.Status {
			return processStatusLetters[st]
		}
	}
	return "?"
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func fmtPtr[T any](p *T, f func(T) string) string {
	if p == nil {
		return "-"
	}
	return f(*p)
}

func parseTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

// cpuTime is ps's TIME column: user plus system CPU time, [H:]MM:SS.
func cpuTime(v processView) string {
	if v.CPUUserSeconds == nil {
		return "-"
	}
	d := time.Duration((*v.CPUUserSeconds + deref(v.CPUSystemSeconds)) * float64(time.Second)).Truncate(time.Second)
	if h := int(d.Hours()); h > 0 {
		return fmt.Sprintf("%d:%02d:%02d", h, int(d.Minutes())%60, int(d.Seconds())%60)
	}
	return fmt.Sprintf("%02d:%02d", int(d.Minutes()), int(d.Seconds())%60)
}
