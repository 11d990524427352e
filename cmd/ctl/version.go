package main

import (
	"runtime"
	"strings"

	"github.com/spf13/cobra"

	"github.com/remotectl/remotectl/client"
	"github.com/remotectl/remotectl/internal/version"
)

func (a *app) newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print ctl's version and, when reachable, the agent's",
		Long: `Print ctl's version, then ask the agent at --host for its version. An
unreachable agent is not an error: ctl prints its own version, a note on
stderr, and exits 0.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := versionView{Client: clientVersionView{
				Version: version.Version, Commit: version.Commit,
				GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH,
			}}
			err := a.withClient(func(c *client.Client) error {
				hb, err := c.Heartbeat(cmd.Context())
				if err == nil {
					v.Agent = &agentVersionView{Host: a.g.host, Hostname: hb.GetHostname(), Version: hb.GetAgentVersion(), Commit: hb.GetAgentCommit()}
				}
				return err
			})
			if err != nil {
				_, line := describe(wrapOp("agent at "+a.g.host+" not asked", err, nil), "", a.target)
				a.diag("ctl: note: %s", strings.TrimPrefix(line, "ctl: "))
			}
			if a.out.json() {
				return a.out.JSON(v)
			}
			pairs := [][2]string{{"client", v.Client.Version + " (" + v.Client.Commit + ", " + v.Client.GoVersion + " " + v.Client.Platform + ")"}}
			if ag := v.Agent; ag != nil {
				pairs = append(pairs, [2]string{"agent", ag.Version + " (" + ag.Commit + ") on " + dash(ag.Hostname) + " at " + ag.Host})
			}
			return a.out.kv(pairs)
		},
	}
}
