package main

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/remotectl/remotectl/internal/pki"
)

// expiryWarning is how close to expiry `certs inspect` starts warning.
const expiryWarning = 30 * 24 * time.Hour

func (a *app) newCertsInspectCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "inspect FILE...",
		Short: "Show the certificates in PEM or DER files",
		Long: `Show subject, issuer, serial, validity, SANs, usages and SHA-256 fingerprint
of every certificate in the files (bundles included). A WARNING goes to stderr
for a certificate that has expired or expires within 30 days. -o json prints
one array with an object per certificate.`,
		Args: minArgs(1, "at least one FILE"),
		RunE: func(_ *cobra.Command, files []string) error {
			var views []certView
			var firstErr error
			for _, file := range files {
				data, err := os.ReadFile(file)
				if err == nil {
					var infos []pki.Info
					if infos, err = pki.CertInfo(data); err == nil {
						for _, in := range infos {
							views = append(views, newCertView(file, in, a.now()))
							a.warnExpiry(file, in)
						}
						continue
					}
				}
				// Report and go on: one bad file should not hide the others.
				err = wrapOp("inspect "+file, err, nil)
				_, line := describe(err, "", a.target)
				a.diag("%s", line)
				if firstErr == nil {
					firstErr = &hintedError{errors.New("inspect: some files could not be read"), exitError, ""}
				}
			}
			if err := a.printCerts(views); err != nil {
				return err
			}
			return firstErr
		},
	}
}

func (a *app) warnExpiry(file string, in pki.Info) {
	left := in.NotAfter.Sub(a.now())
	switch {
	case left <= 0:
		a.diag("ctl: WARNING: %s: certificate %q expired %s ago (%s)", file, in.Subject, humanDuration(-left), in.NotAfter.UTC().Format(time.RFC3339))
	case left <= expiryWarning:
		a.diag("ctl: WARNING: %s: certificate %q expires in %s (%s)", file, in.Subject, humanDuration(left), in.NotAfter.UTC().Format(time.RFC3339))
	}
}

func (a *app) printCerts(views []certView) error {
	if a.out.json() {
		if views == nil {
			views = []certView{}
		}
		return a.out.JSON(views)
	}
	for i, v := range views {
		if i > 0 {
			if err := a.out.Line(""); err != nil {
				return err
			}
		}
		left := time.Duration(v.ExpiresInSeconds * float64(time.Second))
		status := "valid, expires in " + humanDuration(left)
		if left <= 0 {
			status = "EXPIRED " + humanDuration(-left) + " ago"
		} else if parseTime(v.NotBefore).After(a.now()) {
			status = "not yet valid"
		}
		pairs := [][2]string{
			{"file", v.File}, {"subject", v.Subject}, {"issuer", v.Issuer}, {"serial", v.Serial},
			{"not before", v.NotBefore}, {"not after", v.NotAfter}, {"status", status},
			{"dns names", strings.Join(v.DNSNames, ", ")}, {"ip addresses", strings.Join(v.IPAddresses, ", ")},
			{"uris", strings.Join(v.URIs, ", ")}, {"emails", strings.Join(v.EmailAddresses, ", ")},
			{"key usage", strings.Join(v.KeyUsage, ", ")}, {"ext key usage", strings.Join(v.ExtKeyUsage, ", ")},
			{"is ca", strconv.FormatBool(v.IsCA)}, {"public key", v.PublicKey}, {"signature", v.SignatureAlgorithm},
			{"sha-256", v.SHA256Fingerprint},
		}
		shown := pairs[:0]
		for _, p := range pairs {
			if p[1] != "" {
				shown = append(shown, p)
			}
		}
		if err := a.out.kv(shown); err != nil {
			return err
		}
	}
	return nil
}
