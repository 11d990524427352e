// Command ctld is the remotectl agent: a gRPC server over mutual TLS that
// lists and watches processes, controls services and answers heartbeats. It
// runs in the foreground (ctld run) or as an OS service (ctld install).
package main

import (
	"fmt"
	"os"

	"github.com/kardianos/service"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/remotectl/remotectl/internal/version"
)

func main() {
	if err := newRootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "ctld:", err)
		os.Exit(1)
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "ctld",
		Short:         "remotectl agent: processes and services over gRPC with mutual TLS",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newRunCmd(), newVersionCmd())
	for _, action := range []string{"install", "uninstall", "start", "stop", "status"} {
		root.AddCommand(newControlCmd(action))
	}
	return root
}

func newRunCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the agent in the foreground (also the entry point of the installed service)",
		Args:  cobra.NoArgs,
	}
	fv := addConfigFlags(cmd.Flags())
	// Set on the installed Windows service's command line (service_windows.go).
	serviceMode := cmd.Flags().Bool("service", false, "run under the Windows service control manager")
	_ = cmd.Flags().MarkHidden("service")
	cmd.RunE = func(*cobra.Command, []string) error {
		cfg, err := fv.load()
		if err != nil {
			return err
		}
		log, closer, err := newLogger(cfg.Log)
		if err != nil {
			return err
		}
		d := &daemon{cfg: cfg, log: log, logCloser: closer, load: fv.load}
		s, err := service.New(d, serviceConfig(nil))
		if err != nil {
			return err
		}
		return runDaemon(s, d, *serviceMode)
	}
	return cmd
}

// serviceName is the installed service's name.
const serviceName = "ctld"

// serviceConfig describes the installed service; runArgs are passed to
// "ctld run" when the OS starts it.
func serviceConfig(runArgs []string) *service.Config {
	return &service.Config{
		Name:        serviceName,
		DisplayName: "remotectl agent",
		Description: "remotectl agent (ctld): remote process and service control over gRPC with mutual TLS.",
		Arguments:   append(append([]string{"run"}, serviceRunArgs...), runArgs...),
		Option:      service.KeyValue{"SystemdScript": systemdUnit},
	}
}

func newControlCmd(action string) *cobra.Command {
	short := map[string]string{
		"install":   "Install ctld as an OS service; configuration flags given here are passed to the service",
		"uninstall": "Remove the ctld OS service",
		"start":     "Start the installed ctld service",
		"stop":      "Stop the installed ctld service",
		"status":    "Show whether the ctld service is installed and running",
	}[action]
	cmd := &cobra.Command{Use: action, Short: short, Args: cobra.NoArgs}
	var fs *pflag.FlagSet
	if action == "install" {
		fs = cmd.Flags()
		addConfigFlags(fs)
	}
	cmd.RunE = func(*cobra.Command, []string) error {
		var runArgs []string
		if fs != nil {
			fs.Visit(func(f *pflag.Flag) { runArgs = append(runArgs, "--"+f.Name+"="+f.Value.String()) })
		}
		s, err := service.New(&daemon{}, serviceConfig(runArgs))
		if err != nil {
			return err
		}
		if action == "status" {
			st, err := s.Status()
			if err != nil {
				return fmt.Errorf("status: %w", err)
			}
			fmt.Println(map[service.Status]string{
				service.StatusRunning: "running", service.StatusStopped: "stopped", service.StatusUnknown: "unknown",
			}[st])
			return nil
		}
		if err := service.Control(s, action); err != nil {
			return err
		}
		if err := afterControl(action); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "ctld: %s: done\n", action)
		return nil
	}
	return cmd
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run:   func(*cobra.Command, []string) { fmt.Println("ctld", version.String()) },
	}
}
