package main

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/remotectl/remotectl/client"
	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
)

// completionTimeout bounds each question to the agent while the shell waits
// for completions: a slow or absent agent means no suggestions, not a hang.
const completionTimeout = 2 * time.Second

type completeFunc = cobra.CompletionFunc

// flagCompletions maps a flag name to its completion, per command path
// ("" applies to every command having the flag). Values come from the same
// tables that parse them (sortNames, serviceStateNames, processFieldNames,
// outputFormats); names and PIDs come from the agent.
func (a *app) flagCompletions() map[string]map[string]completeFunc {
	return map[string]map[string]completeFunc{
		"output": {"": fixedCompletion(outputFormatNames()...)},
		"sort":   {"": fixedCompletion(sortedKeys(sortNames)...)},
		"state":  {"": fixedCompletion(sortedValues(serviceStateNames)...)},
		"fields": {"": listCompletion(fieldNames())},
		"name": {
			"ctl ps":        a.processCompletion(func(p *pb.Process) (string, string) { return p.GetName(), "" }),
			"ctl ps watch":  a.processCompletion(func(p *pb.Process) (string, string) { return p.GetName(), "" }),
			"ctl kill":      a.processCompletion(func(p *pb.Process) (string, string) { return p.GetName(), "" }),
			"ctl svc ls":    a.serviceCompletion,
			"ctl svc watch": a.serviceCompletion,
		},
		"pid":    {"": a.processCompletion(pidAndName)},
		"ppid":   {"": a.processCompletion(pidAndName)},
		"user":   {"": a.processCompletion(func(p *pb.Process) (string, string) { return p.GetUser(), "" })},
		"signal": {"": fixedCompletion(sortedValues(processSignalNames)...)},
	}
}

// argCompletions complete the positional arguments of these commands.
func (a *app) argCompletions() map[string]completeFunc {
	return map[string]completeFunc{
		"ctl svc get":     a.serviceCompletion,
		"ctl svc start":   a.serviceCompletion,
		"ctl svc stop":    a.serviceCompletion,
		"ctl svc restart": a.serviceCompletion,
		"ctl svc enable":  a.serviceCompletion,
		"ctl svc disable": a.serviceCompletion,
		"ctl svc logs":    a.serviceCompletion,
		"ctl kill":        a.processCompletion(pidAndName),
	}
}

// registerCompletions attaches the completions above to every command of
// the tree; commands added later get theirs by adding a table entry.
func (a *app) registerCompletions(root *cobra.Command) {
	flags, args := a.flagCompletions(), a.argCompletions()
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		path := c.CommandPath()
		if fn, ok := args[path]; ok {
			c.ValidArgsFunction = oneArg(fn)
		}
		local := c.LocalFlags() // builds a FlagSet: once per command
		for name, byPath := range flags {
			fn, ok := byPath[path]
			if !ok {
				fn, ok = byPath[""]
			}
			if !ok || local.Lookup(name) == nil {
				continue
			}
			_ = c.RegisterFlagCompletionFunc(name, fn) // fails only when registered twice
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// oneArg completes only the first positional argument.
func oneArg(fn completeFunc) completeFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return fn(cmd, args, toComplete)
	}
}

func fixedCompletion(values ...string) completeFunc {
	return func(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		var out []cobra.Completion
		for _, v := range values {
			if strings.HasPrefix(v, toComplete) {
				out = append(out, v)
			}
		}
		dir := cobra.ShellCompDirectiveNoFileComp
		if len(out) == 1 && strings.HasSuffix(out[0], "=") {
			dir |= cobra.ShellCompDirectiveNoSpace // jsonpath=, go-template=: the template follows
		}
		return out, dir
	}
}

// listCompletion completes the last element of a comma list, offering the
// values not in the list yet.
func listCompletion(values []string) completeFunc {
	return func(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		done, last := "", toComplete
		if i := strings.LastIndex(toComplete, ","); i >= 0 {
			done, last = toComplete[:i+1], toComplete[i+1:]
		}
		used := strings.Split(done, ",")
		var out []cobra.Completion
		for _, v := range values {
			if strings.HasPrefix(v, last) && !slices.Contains(used, v) {
				out = append(out, done+v)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
	}
}

// completionClient applies the global flags and their environment
// fallbacks (cobra runs no PersistentPreRunE for __complete) and runs fn
// with a client whose calls give up after completionTimeout.
func (a *app) completionClient(cmd *cobra.Command, fn func(context.Context, *client.Client) error) error {
	if err := a.setup(cmd); err != nil {
		return err
	}
	a.g.timeout = min(a.g.timeout, completionTimeout)
	ctx, cancel := context.WithTimeout(context.Background(), completionTimeout)
	defer cancel()
	return a.withClient(func(c *client.Client) error { return fn(ctx, c) })
}

// serviceCompletion offers the agent's service names, with the state and
// description as the shell's hint. Failures complete nothing, silently.
func (a *app) serviceCompletion(cmd *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	var out []cobra.Completion
	_ = a.completionClient(cmd, func(ctx context.Context, c *client.Client) error {
		resp, err := c.ListServices(ctx, &pb.ListServicesRequest{})
		for _, s := range resp.GetServices() {
			if strings.HasPrefix(s.GetName(), toComplete) {
				out = append(out, cobra.CompletionWithDesc(s.GetName(), serviceStateName(s.GetState())+": "+clean(s.GetDescription())))
			}
		}
		return err
	})
	return out, cobra.ShellCompDirectiveNoFileComp
}

// processCompletion offers one value per process (deduplicated), as
// extracted by pick.
func (a *app) processCompletion(pick func(*pb.Process) (value, desc string)) completeFunc {
	return func(cmd *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		var out []cobra.Completion
		_ = a.completionClient(cmd, func(ctx context.Context, c *client.Client) error {
			resp, err := c.ListProcesses(ctx, &pb.ListProcessesRequest{Fields: []pb.ProcessField{pb.ProcessField_PROCESS_FIELD_NAME, pb.ProcessField_PROCESS_FIELD_USER}})
			seen := map[string]bool{}
			for _, p := range resp.GetProcesses() {
				v, d := pick(p)
				if v == "" || seen[v] || !strings.HasPrefix(v, toComplete) {
					continue
				}
				seen[v] = true
				out = append(out, cobra.CompletionWithDesc(clean(v), clean(d)))
			}
			return err
		})
		slices.Sort(out)
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

func pidAndName(p *pb.Process) (string, string) {
	return strconv.Itoa(int(p.GetPid())), p.GetName()
}

func outputFormatNames() []string {
	out := make([]string, 0, len(outputFormats))
	for _, f := range outputFormats {
		out = append(out, f.name)
	}
	return out
}

func fieldNames() []string {
	out := make([]string, 0, len(processFieldNames))
	for _, n := range processFieldNames {
		out = append(out, n.name)
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func sortedValues[K comparable](m map[K]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}
