package main

import (
	"context"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/remotectl/remotectl/client"
	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
)

// whoamiView is `ctl whoami -o json`.
type whoamiView struct {
	CommonName          string   `json:"common_name"`
	OrganizationalUnits []string `json:"organizational_units"`
	URIs                []string `json:"uris"`
	DNSNames            []string `json:"dns_names"`
	Serial              string   `json:"serial"`
	Subject             string   `json:"subject"`
	Roles               []string `json:"roles"`
	Permissions         []string `json:"permissions"`
	ProtectedServices   []string `json:"protected_services"`
	ServiceAllowLists   []string `json:"service_allow_lists"`
	// AgentCertNotAfter is when the agent's own TLS certificate expires.
	AgentCertNotAfter string `json:"agent_cert_not_after,omitempty"`
}

func (a *app) newWhoamiCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "whoami",
		Short: "Show your identity, roles and permissions as the agent sees them",
		Long: `Ask the agent who it thinks you are: the identity from your client
certificate (CN, OUs, URI and DNS SANs, serial), the roles its configuration
binds to it and the permissions they grant, plus the services nobody may stop
remotely and any allow-lists of your roles. Also warns on stderr when the
agent's own certificate expires within 30 days.`,
		Example: "  ctl whoami\n  ctl whoami -o json | jq .permissions",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if a.multiHost {
				return a.fleetWhoami(cmd.Context())
			}
			return a.withClient(func(c *client.Client) error {
				v, err := a.whoami(cmd.Context(), c, "")
				if err != nil {
					return wrapOp("whoami", err, nil)
				}
				if a.out.json() {
					return a.out.JSON(v)
				}
				return a.out.kv(whoamiKV(v))
			})
		},
	}
}

// whoami asks the agent who we are, and warns when its certificate
// expires soon (naming host, when many are asked).
func (a *app) whoami(ctx context.Context, c *client.Client, host string) (whoamiView, error) {
	ctx, cancel := context.WithTimeout(ctx, a.g.timeout)
	defer cancel()
	agentSvc := pb.NewAgentServiceClient(c.Conn())
	w, err := agentSvc.WhoAmI(ctx, &pb.WhoAmIRequest{})
	if err != nil {
		return whoamiView{}, err
	}
	v := whoamiView{
		CommonName: w.CommonName, OrganizationalUnits: nonNil(w.OrganizationalUnits), URIs: nonNil(w.Uris),
		DNSNames: nonNil(w.DnsNames), Serial: w.Serial, Subject: w.Subject, Roles: nonNil(w.Roles),
		Permissions: nonNil(w.Permissions), ProtectedServices: nonNil(w.ProtectedServices), ServiceAllowLists: nonNil(w.ServiceAllowLists),
	}
	// The agent's certificate expiry rides on Heartbeat, which every caller may use.
	if hb, err := agentSvc.Heartbeat(ctx, &pb.HeartbeatRequest{}); err == nil && hb.ServerCertNotAfter != nil {
		na := hb.ServerCertNotAfter.AsTime()
		v.AgentCertNotAfter = na.UTC().Format(time.RFC3339)
		if left := na.Sub(a.now()); left <= expiryWarning {
			if host != "" {
				host += ": "
			}
			a.diag("ctl: %sWARNING: the agent's certificate (serial %s) expires in %s (%s)", host, hb.ServerCertSerial, humanDuration(left), v.AgentCertNotAfter)
		}
	}
	return v, nil
}

func whoamiKV(v whoamiView) [][2]string {
	roles := strings.Join(v.Roles, ", ")
	if roles == "" {
		roles = "none (no binding in the agent's authz config matches; only heartbeat, whoami and health are allowed)"
	}
	return [][2]string{
		{"identity", v.Subject}, {"common name", v.CommonName},
		{"organizational units", strings.Join(v.OrganizationalUnits, ", ")},
		{"uris", strings.Join(v.URIs, ", ")}, {"dns names", strings.Join(v.DNSNames, ", ")},
		{"serial", v.Serial}, {"roles", roles}, {"permissions", strings.Join(v.Permissions, ", ")},
		{"service allow-lists", strings.Join(v.ServiceAllowLists, "; ")},
		{"protected services", strings.Join(v.ProtectedServices, ", ")},
		{"agent cert expires", v.AgentCertNotAfter},
	}
}
