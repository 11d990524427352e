package main

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/remotectl/remotectl/fleet"
)

func (a *app) newConfigCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Show the inventory and switch contexts (hosts, labels, groups, credentials)",
		Long: `The inventory is a YAML file like a kubeconfig: named contexts, each a
fleet of hosts (address, labels, groups) with the credentials to reach it,
and the current context. Its path is --config, else $CTL_CONFIG, else
` + configHint() + `. docs/fleet.md describes the format.`,
		Args: unknownSubcommand,
		RunE: missingSubcommand,
	}
	cmd.AddCommand(
		a.inventoryCmd("view", "Print the inventory (YAML, or JSON with -o json)", noArgs,
			func(inv *fleet.Inventory, _ []string) error {
				if a.out.json() {
					return a.out.JSON(inv)
				}
				data, err := yaml.Marshal(inv)
				if err != nil {
					return err
				}
				_, err = a.stdout.Write(data)
				return err
			}),
		a.inventoryCmd("get-contexts", "List the contexts", noArgs,
			func(inv *fleet.Inventory, _ []string) error {
				cur := orDefault(a.fl.context, inv.CurrentContext)
				if a.out.json() {
					return a.out.JSON(inv.Contexts)
				}
				t := a.out.table("CURRENT", "NAME", "HOSTS", "CERT")
				for _, c := range inv.Contexts {
					mark := ""
					if c.Name == cur {
						mark = "*"
					}
					t.row(mark, c.Name, strconv.Itoa(len(c.Hosts)), dash(c.Cert))
				}
				return t.flush()
			}),
		a.inventoryCmd("current-context", "Print the current context", noArgs,
			func(inv *fleet.Inventory, _ []string) error {
				if inv.CurrentContext == "" {
					return &hintedError{fmt.Errorf("no current context in %s", a.configPath()), exitNotFound, "set one with `ctl config use-context NAME`"}
				}
				return a.out.Line(inv.CurrentContext)
			}),
		a.inventoryCmd("use-context NAME", "Make NAME the current context", exactArgs(1, "one context NAME"),
			func(inv *fleet.Inventory, args []string) error {
				if inv.Context(args[0]) == nil {
					return &hintedError{fmt.Errorf("no context %q in %s", args[0], a.configPath()), exitNotFound, "list them with `ctl config get-contexts`"}
				}
				path := a.configPath()
				if path == "" {
					return usagef("no config file: set --config or CTL_CONFIG")
				}
				inv.CurrentContext = args[0]
				if err := inv.Save(path); err != nil {
					return &hintedError{fmt.Errorf("save %s: %w", path, err), exitError, ""}
				}
				a.diag("ctl: switched to context %q", args[0])
				return nil
			}),
	)
	return cmd
}

// inventoryCmd is a config subcommand that works on the loaded inventory.
func (a *app) inventoryCmd(use, short string, args cobra.PositionalArgs, run func(*fleet.Inventory, []string) error) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  args,
		RunE: func(_ *cobra.Command, args []string) error {
			inv, err := a.inventory()
			if err != nil {
				return err
			}
			return run(inv, args)
		},
	}
}
