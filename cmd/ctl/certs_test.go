package main

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/remotectl/remotectl/internal/pki"
)

func mustRun(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	_, r := runApp(t, env, args...)
	if r.code != 0 {
		t.Fatalf("ctl %s: exit %d, stderr %q", strings.Join(args, " "), r.code, r.stderr)
	}
	return r
}

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatalf("%s: no PEM", path)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func checkMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != want {
		t.Errorf("%s: mode %v, want %v", path, fi.Mode().Perm(), want)
	}
}

// makeCerts runs certs ca, server and client into a fresh tree.
func makeCerts(t *testing.T) (caDir, srvDir, cliDir string) {
	root := t.TempDir()
	caDir, srvDir, cliDir = filepath.Join(root, "ca"), filepath.Join(root, "srv"), filepath.Join(root, "alice")
	// CTL_HOST must not leak into certs server --host, which shadows the global flag.
	env := map[string]string{"CTL_HOST": "evil.example:1"}
	mustRun(t, env, "certs", "ca", "--out", caDir, "--cn", "Test Root", "--validity", "30d")
	mustRun(t, env, "certs", "server", "--ca-dir", caDir, "--host", "localhost", "--host", "127.0.0.1,::1", "--out", srvDir, "--validity", "10d")
	// No --validity: the default year is capped to the CA's 30 days.
	r := mustRun(t, env, "certs", "client", "--ca-dir", caDir, "--cn", "alice", "--ou", "operators", "--ou", "audit",
		"--uri", "spiffe://example.org/ops/alice", "--out", cliDir)
	if !strings.HasPrefix(r.stderr, "ctl: note: validity capped to the CA's expiry") {
		t.Errorf("stderr %q", r.stderr)
	}
	return caDir, srvDir, cliDir
}

func TestCertsIssueAndVerify(t *testing.T) {
	caDir, srvDir, cliDir := makeCerts(t)
	for _, f := range []string{filepath.Join(caDir, "ca.key"), filepath.Join(srvDir, "server.key"), filepath.Join(cliDir, "client.key")} {
		checkMode(t, f, 0o600)
	}
	for _, f := range []string{filepath.Join(caDir, "ca.crt"), filepath.Join(srvDir, "server.crt"), filepath.Join(srvDir, "ca.crt"), filepath.Join(cliDir, "client.crt")} {
		checkMode(t, f, 0o644)
	}
	checkMode(t, srvDir, 0o700)

	ca := readCert(t, filepath.Join(caDir, "ca.crt"))
	if ca.Subject.CommonName != "Test Root" || !ca.IsCA || time.Until(ca.NotAfter) > 30*24*time.Hour {
		t.Errorf("CA %v IsCA=%v NotAfter=%v", ca.Subject, ca.IsCA, ca.NotAfter)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)

	srv := readCert(t, filepath.Join(srvDir, "server.crt"))
	if _, err := srv.Verify(x509.VerifyOptions{Roots: roots, DNSName: "localhost", KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
		t.Errorf("server certificate does not verify for localhost: %v", err)
	}
	if _, err := srv.Verify(x509.VerifyOptions{Roots: roots, DNSName: "::1", KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
		t.Errorf("server certificate does not verify for ::1: %v", err)
	}
	if slices.Contains(srv.DNSNames, "evil.example") || len(srv.IPAddresses) != 2 {
		t.Errorf("server SANs %v %v", srv.DNSNames, srv.IPAddresses)
	}
	if _, err := srv.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err == nil {
		t.Error("a server certificate must not be usable as a client certificate")
	}

	cli := readCert(t, filepath.Join(cliDir, "client.crt"))
	if _, err := cli.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("client certificate does not verify: %v", err)
	}
	if id := pki.IdentityFromCert(cli); id.CommonName != "alice" || !slices.Equal(id.OrganizationalUnits, []string{"audit", "operators"}) ||
		!slices.Equal(id.URIs, []string{"spiffe://example.org/ops/alice"}) {
		t.Errorf("client identity %+v", id)
	}
	// The copied ca.crt makes --out a complete client configuration.
	if _, err := pki.ClientTLSConfig(filepath.Join(cliDir, "ca.crt"), filepath.Join(cliDir, "client.crt"), filepath.Join(cliDir, "client.key"), ""); err != nil {
		t.Errorf("client dir is not a usable TLS configuration: %v", err)
	}
}

func TestCertsRefuseOverwrite(t *testing.T) {
	caDir, _, cliDir := makeCerts(t)
	before, _ := os.ReadFile(filepath.Join(caDir, "ca.key"))
	_, r := runApp(t, nil, "certs", "ca", "--out", caDir)
	if r.code != exitError || !strings.Contains(r.stderr, "refusing to overwrite "+filepath.Join(caDir, "ca.key")) || !strings.Contains(r.stderr, "pass --force") {
		t.Errorf("exit %d stderr %q", r.code, r.stderr)
	}
	if after, _ := os.ReadFile(filepath.Join(caDir, "ca.key")); string(after) != string(before) {
		t.Error("ca.key changed although the command refused")
	}

	// Another identity into the same directory: ca.crt is identical, so no conflict.
	mustRun(t, nil, "certs", "client", "--ca-dir", caDir, "--cn", "bob", "--basename", "bob", "--out", cliDir)
	if c := readCert(t, filepath.Join(cliDir, "bob.crt")); c.Subject.CommonName != "bob" {
		t.Errorf("bob.crt CN %q", c.Subject.CommonName)
	}
	checkMode(t, filepath.Join(cliDir, "bob.key"), 0o600)

	_, r = runApp(t, nil, "certs", "client", "--ca-dir", caDir, "--cn", "alice2", "--out", cliDir)
	if r.code != exitError || !strings.Contains(r.stderr, "client.crt") {
		t.Errorf("client overwrite: exit %d stderr %q", r.code, r.stderr)
	}
	mustRun(t, nil, "certs", "client", "--ca-dir", caDir, "--cn", "alice2", "--out", cliDir, "--force")
	if c := readCert(t, filepath.Join(cliDir, "client.crt")); c.Subject.CommonName != "alice2" {
		t.Errorf("--force did not replace client.crt (CN %q)", c.Subject.CommonName)
	}
	checkMode(t, filepath.Join(cliDir, "client.key"), 0o600)
}

func TestCertsIssueErrors(t *testing.T) {
	caDir, _, _ := makeCerts(t)
	out := t.TempDir()
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"certs", "server", "--ca-dir", caDir, "--out", out}, exitUsage, "at least one --host"},
		{[]string{"certs", "server", "--ca-dir", caDir, "--host", "bad host", "--out", out}, exitUsage, "invalid character"},
		{[]string{"certs", "client", "--ca-dir", caDir, "--out", out}, exitUsage, "--cn NAME is required"},
		{[]string{"certs", "client", "--ca-dir", caDir, "--cn", "x", "--uri", "not-a-uri", "--out", out}, exitError, "must be absolute"},
		{[]string{"certs", "client", "--ca-dir", out, "--cn", "x", "--out", out}, exitError, "ca.crt"},
		{[]string{"certs", "client", "--ca-dir", caDir, "--cn", "x", "--validity", "400d", "--out", out}, exitError, "after the CA's expiry"},
		{[]string{"certs", "ca", "--out", out, "--validity", "soon"}, exitUsage, `invalid --validity "soon": want a duration`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args[:2], " ")+" "+tt.want, func(t *testing.T) {
			_, r := runApp(t, nil, tt.args...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.want) || strings.Count(r.stderr, "\n") != 1 {
				t.Errorf("exit %d (want %d) stderr %q (want %q)", r.code, tt.code, r.stderr, tt.want)
			}
		})
	}
}

func TestCertsInspect(t *testing.T) {
	caDir, srvDir, _ := makeCerts(t)
	srvPath := filepath.Join(srvDir, "server.crt")
	r := mustRun(t, nil, "certs", "inspect", srvPath)
	for _, want := range []string{"file:          " + srvPath, "subject:       CN=localhost", "issuer:        CN=Test Root",
		"dns names:     localhost", "ip addresses:  127.0.0.1, ::1", "ext key usage: ServerAuth", "key usage:     DigitalSignature",
		"public key:    ECDSA P-256", "status:        valid, expires in", "sha-256:       "} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("inspect lacks %q:\n%s", want, r.stdout)
		}
	}
	// 10 days left: within the 30-day warning window.
	if !strings.HasPrefix(r.stderr, "ctl: WARNING: "+srvPath+`: certificate "CN=localhost" expires in `) {
		t.Errorf("stderr %q", r.stderr)
	}

	r = mustRun(t, nil, "certs", "inspect", "-o", "json", filepath.Join(caDir, "ca.crt"), srvPath)
	var views []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &views); err != nil || len(views) != 2 {
		t.Fatalf("JSON %v: %s", err, r.stdout)
	}
	if views[0]["is_ca"] != true || views[1]["file"] != srvPath || views[1]["expired"] != false {
		t.Errorf("views %v", views)
	}
	for _, k := range []string{"subject", "issuer", "serial", "not_before", "not_after", "expires_in_seconds", "dns_names",
		"ip_addresses", "uris", "key_usage", "ext_key_usage", "sha256_fingerprint", "public_key", "signature_algorithm"} {
		if _, ok := views[1][k]; !ok {
			t.Errorf("inspect JSON lacks %q", k)
		}
	}
}

func TestCertsInspectExpiredAndMissing(t *testing.T) {
	p := newTestPKI(t)
	certPEM, _, err := p.ca.Issue(pki.Request{CommonName: "old", ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(t.TempDir(), "old.crt")
	if err := os.WriteFile(old, certPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "missing.crt")
	_, r := runApp(t, nil, "certs", "inspect", old, missing)
	if r.code != exitError {
		t.Errorf("exit %d, want 1 for the missing file", r.code)
	}
	if !strings.Contains(r.stdout, "status:        EXPIRED 1d0h ago") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, "ctl: WARNING: "+old+`: certificate "CN=old" expired 1d0h ago`) || !strings.Contains(r.stderr, "ctl: inspect "+missing+": ") {
		t.Errorf("stderr %q", r.stderr)
	}
}

// TestE2ECertsMadeByCtl runs an agent with certificates issued by ctl certs
// and connects with a client certificate issued the same way.
func TestE2ECertsMadeByCtl(t *testing.T) {
	caDir, srvDir, cliDir := makeCerts(t)
	p := &testPKI{dir: srvDir, Paths: pki.Paths{CACert: filepath.Join(caDir, "ca.crt"),
		ServerCert: filepath.Join(srvDir, "server.crt"), ServerKey: filepath.Join(srvDir, "server.key")}}
	addr := startAgent(t, p)
	r := runCtl(ctxTimeout(t, 30*time.Second), t, map[string]string{"CTL_HOST": addr, "CTL_CACERT": filepath.Join(cliDir, "ca.crt"),
		"CTL_CERT": filepath.Join(cliDir, "client.crt"), "CTL_KEY": filepath.Join(cliDir, "client.key")}, "heartbeat")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "host:") {
		t.Fatalf("exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
}
