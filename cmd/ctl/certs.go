package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/remotectl/remotectl/internal/pki"
)

// File modes: keys private to their owner, certificates public.
const (
	keyMode  fs.FileMode = 0o600
	certMode fs.FileMode = 0o644
)

func (a *app) newCertsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "certs",
		Short: "Create and inspect the certificates of agents and clients (offline)",
		Long: `Create a CA, server and client certificates (ECDSA P-256), and inspect
certificates. These commands work on local files only; they never contact an
agent. Keys are written with mode 0600, certificates 0644, and existing files
are never overwritten without --force.

Files: DIR/ca.crt + ca.key, DIR/server.crt + server.key, and
DIR/client.crt + client.key (or BASENAME.crt/.key with certs client
--basename). server and client also copy ca.crt into --out, so that
directory alone configures ctld (--tls-ca/--tls-cert/--tls-key) or ctl
(--cacert/--cert/--key).`,
		Example: `  ctl certs ca --out pki
  ctl certs server --ca-dir pki --host agent1.example.com --host 10.0.0.5 --out agent1
  ctl certs client --ca-dir pki --cn alice --ou operators --out alice
  ctl certs inspect agent1/server.crt`,
		Args: unknownSubcommand,
		RunE: missingSubcommand,
	}
	cmd.AddCommand(a.newCertsCACmd(), a.newCertsServerCmd(), a.newCertsClientCmd(), a.newCertsInspectCmd())
	return cmd
}

// validity is a duration flag that also takes days ("90d"), the natural
// unit of certificate lifetimes.
type validity struct{ d time.Duration }

func (v *validity) String() string {
	if v.d > 0 && v.d%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(v.d/(24*time.Hour)), 10) + "d"
	}
	return v.d.String()
}
func (v *validity) Type() string { return "duration" }
func (v *validity) Set(s string) error {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.ParseUint(n, 10, 16)
		if err != nil || days == 0 {
			return fmt.Errorf("want a positive number of days like 365d, or a duration like 8760h")
		}
		v.d = time.Duration(days) * 24 * time.Hour
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return fmt.Errorf("want a positive duration like 8760h, or days like 365d")
	}
	v.d = d
	return nil
}

// issueFlags are shared by the commands that write certificates.
type issueFlags struct {
	out, caDir, cn string
	validity       validity
	force          bool
	cmd            *cobra.Command
}

func (f *issueFlags) bind(cmd *cobra.Command, withCA bool, def time.Duration) {
	f.validity.d, f.cmd = def, cmd
	cmd.Flags().StringVar(&f.out, "out", "", "write the files into `DIR` (created 0700 if missing; required)")
	cmd.Flags().Var(&f.validity, "validity", "lifetime, e.g. 365d or 8760h")
	cmd.Flags().BoolVar(&f.force, "force", false, "replace existing files")
	if withCA {
		cmd.Flags().StringVar(&f.caDir, "ca-dir", "", "`DIR` holding ca.crt and ca.key of the issuing CA (required)")
	}
}

func (f *issueFlags) check(withCA bool) error {
	if f.out == "" {
		return usagef("--out DIR is required")
	}
	if withCA && f.caDir == "" {
		return usagef("--ca-dir DIR is required (make a CA with `ctl certs ca --out DIR`)")
	}
	return nil
}

func (a *app) newCertsCACmd() *cobra.Command {
	var f issueFlags
	cmd := &cobra.Command{
		Use:   "ca",
		Short: "Create a CA: DIR/ca.crt and DIR/ca.key",
		Args:  noArgs,
		RunE: func(*cobra.Command, []string) error {
			if err := f.check(false); err != nil {
				return err
			}
			ca, err := pki.NewCA(f.cn, f.validity.d)
			if err != nil {
				return wrapOp("create CA", err, nil)
			}
			keyPEM, err := ca.KeyPEM()
			if err != nil {
				return wrapOp("create CA", err, nil)
			}
			certPath, keyPath := filepath.Join(f.out, pki.CACertFile), filepath.Join(f.out, pki.CAKeyFile)
			if err := writeFiles(f.out, f.force, []pendingFile{{keyPath, keyPEM, keyMode}, {certPath, ca.CertPEM(), certMode}}); err != nil {
				return wrapOp("create CA", err, nil)
			}
			return a.printIssued(certPath, keyPath, "", ca.CertPEM())
		},
	}
	f.bind(cmd, false, pki.DefaultCAValidity)
	cmd.Flags().StringVar(&f.cn, "cn", "remotectl CA", "common name of the CA")
	return cmd
}

func (a *app) newCertsServerCmd() *cobra.Command {
	var (
		f     issueFlags
		hosts []string
	)
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Issue an agent (server) certificate: DIR/server.crt and DIR/server.key",
		Long: `Issue a certificate for ctld, valid for every --host (DNS names, "*.domain"
wildcards and IP addresses). Clients verify the name they dial against these,
so list every name and address the agent is reached by.`,
		Args: noArgs,
		RunE: func(*cobra.Command, []string) error {
			if err := f.check(true); err != nil {
				return err
			}
			if len(hosts) == 0 {
				return usagef("at least one --host is required (a DNS name or IP address clients dial)")
			}
			if _, _, err := pki.ParseHosts(hosts); err != nil {
				return &usageError{err}
			}
			return a.issue(&f, "server", pki.ServerCertFile, pki.ServerKeyFile, func(ca *pki.CA) ([]byte, []byte, error) {
				return ca.IssueServer(f.cn, hosts, f.validity.d)
			})
		},
	}
	f.bind(cmd, true, pki.DefaultLeafValidity)
	cmd.Flags().StringVar(&f.cn, "cn", "", "common name (default: the first --host)")
	// Shadows the global --host (the agent address): certs never dial.
	cmd.Flags().StringSliceVar(&hosts, "host", nil, "DNS name or IP the certificate is valid for (repeatable or comma list; required)")
	return cmd
}

func (a *app) newCertsClientCmd() *cobra.Command {
	var (
		f         issueFlags
		ous, uris []string
		basename  string
	)
	cmd := &cobra.Command{
		Use:   "client",
		Short: "Issue a client certificate: DIR/client.crt and DIR/client.key",
		Long: `Issue a client certificate. Its subject (CN, OUs) and URI SANs are the
caller's identity on the agent: ctld's authz.bindings map them to roles
(viewer, operator, admin), e.g. {ou: operators, role: operator} or
{uri_prefix: "spiffe://example.org/ops/", role: admin}. Check the result
with ` + "`ctl whoami`" + `. The files are client.crt/client.key, or
BASENAME.crt/BASENAME.key with --basename, so one directory can hold several
identities. A WARNING goes to stderr when the certificate expires within 30
days (e.g. capped by the CA's own expiry).`,
		Example: "  ctl certs client --ca-dir pki --cn alice --ou operators --out alice\n" +
			"  ctl certs client --ca-dir pki --cn ci --uri spiffe://example.org/ops/ci --out ci\n" +
			"  ctl certs client --ca-dir pki --cn bob --basename bob --out clients",
		Args: noArgs,
		RunE: func(*cobra.Command, []string) error {
			if err := f.check(true); err != nil {
				return err
			}
			if strings.TrimSpace(f.cn) == "" {
				return usagef("--cn NAME is required: the identity the agent sees")
			}
			if basename == "" || strings.ContainsAny(basename, `/\`) || basename == "ca" {
				return usagef("invalid --basename %q: a plain file name other than ca", basename)
			}
			return a.issue(&f, "client", basename+".crt", basename+".key", func(ca *pki.CA) ([]byte, []byte, error) {
				return ca.IssueClient(f.cn, f.validity.d, pki.WithOU(ous...), pki.WithURI(uris...))
			})
		},
	}
	f.bind(cmd, true, pki.DefaultLeafValidity)
	cmd.Flags().StringVar(&f.cn, "cn", "", "common name: the client's identity (required)")
	cmd.Flags().StringArrayVar(&ous, "ou", nil, "organizational unit, e.g. a role (repeatable)")
	cmd.Flags().StringArrayVar(&uris, "uri", nil, "URI SAN such as spiffe://example.org/ops/alice (repeatable)")
	cmd.Flags().StringVar(&basename, "basename", "client", "file name without extension")
	return cmd
}

// issue loads the CA, issues a leaf with fn and writes it with the CA
// certificate next to it.
func (a *app) issue(f *issueFlags, role, certName, keyName string, fn func(*pki.CA) ([]byte, []byte, error)) error {
	op := "issue " + role + " certificate"
	caPaths := pki.DevPaths(f.caDir)
	ca, err := pki.LoadCA(caPaths.CACert, caPaths.CAKey)
	if err != nil {
		return wrapOp(op, err, map[int]string{exitError: "--ca-dir must hold ca.crt and ca.key, e.g. from `ctl certs ca --out DIR`"})
	}
	// A default lifetime that would outlive the CA is capped to it; an
	// explicit --validity is taken at its word and may fail in pki.
	left := time.Until(ca.Cert.NotAfter) - time.Minute
	capped := !flagChanged(f.cmd.Flags(), "validity") && f.validity.d > left && left > 0
	if capped {
		f.validity.d = left
	}
	certPEM, keyPEM, err := fn(ca)
	if err != nil {
		return wrapOp(op, err, nil)
	}
	certPath, keyPath := filepath.Join(f.out, certName), filepath.Join(f.out, keyName)
	caCopy := filepath.Join(f.out, pki.CACertFile)
	files := []pendingFile{{keyPath, keyPEM, keyMode}, {certPath, certPEM, certMode}, {caCopy, ca.CertPEM(), certMode}}
	if err := writeFiles(f.out, f.force, files); err != nil {
		return wrapOp(op, err, nil)
	}
	if capped {
		a.diag("ctl: note: validity capped to the CA's expiry, %s", ca.Cert.NotAfter.UTC().Format(time.RFC3339))
	}
	return a.printIssued(certPath, keyPath, caCopy, certPEM)
}

type pendingFile struct {
	path string
	data []byte
	mode fs.FileMode
}

// writeFiles refuses before writing anything when a target exists (unless
// force), so a failed run never leaves a half-replaced set. A file that
// already holds exactly the new content (ca.crt) counts as no conflict.
func writeFiles(dir string, force bool, files []pendingFile) error {
	var existing []string
	todo := files[:0:0]
	for _, f := range files {
		old, err := os.ReadFile(f.path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil && !force:
			return err
		case err == nil && bytes.Equal(old, f.data):
			continue
		default:
			existing = append(existing, f.path)
		}
		todo = append(todo, f)
	}
	if len(existing) > 0 && !force {
		return &hintedError{fmt.Errorf("refusing to overwrite %s", strings.Join(existing, ", ")), exitError,
			"pass --force to replace them, or choose another --out"}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	for _, f := range todo {
		if err := pki.WriteFileAtomic(f.path, f.data, f.mode); err != nil {
			return err
		}
	}
	return nil
}

func (a *app) printIssued(certPath, keyPath, caPath string, certPEM []byte) error {
	infos, err := pki.CertInfo(certPEM)
	if err != nil {
		return err
	}
	v := issuedView{Certificate: certPath, Key: keyPath, CACertificate: caPath, certView: newCertView(certPath, infos[0], a.now())}
	a.warnExpiry(certPath, infos[0])
	if a.out.json() {
		return a.out.JSON(v)
	}
	pairs := [][2]string{{"certificate", certPath}, {"key", keyPath + " (mode 0600)"}}
	if caPath != "" {
		pairs = append(pairs, [2]string{"ca certificate", caPath})
	}
	pairs = append(pairs, [2]string{"subject", v.Subject}, [2]string{"expires", v.NotAfter})
	if sans := strings.Join(append(append(append([]string{}, v.DNSNames...), v.IPAddresses...), v.URIs...), ", "); sans != "" {
		pairs = append(pairs, [2]string{"names", sans})
	}
	pairs = append(pairs, [2]string{"sha-256", v.SHA256Fingerprint})
	return a.out.kv(pairs)
}
