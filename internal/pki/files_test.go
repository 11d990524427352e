package pki

import (
	"bytes"
	"crypto/x509"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

var devFiles = []string{"ca.crt", "ca.key", "client.crt", "client.key", "server.crt", "server.key"}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names // ReadDir sorts by name
}

func snapshot(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	m := map[string][]byte{}
	for _, n := range dirNames(t, dir) {
		m[n] = readFileT(t, filepath.Join(dir, n))
	}
	return m
}

func TestDevPaths(t *testing.T) {
	p := DevPaths(filepath.Join("state", "certs"))
	got := []string{p.CACert, p.CAKey, p.ServerCert, p.ServerKey, p.ClientCert, p.ClientKey}
	want := []string{"ca.crt", "ca.key", "server.crt", "server.key", "client.crt", "client.key"}
	for i := range want {
		if got[i] != filepath.Join("state", "certs", want[i]) {
			t.Errorf("path %d = %q, want state/certs/%s", i, got[i], want[i])
		}
	}
}

func TestEnsureDevPKIFirstRunAndIdempotent(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "certs")
	hosts := []string{"ctld.example.test", "10.0.0.5", "localhost", "127.0.0.1"}
	created, p, err := EnsureDevPKI(dir, hosts)
	if err != nil {
		t.Fatal(err)
	}
	if !created || p != DevPaths(dir) {
		t.Fatalf("created=%v paths=%+v", created, p)
	}
	if got := dirNames(t, dir); !slices.Equal(got, devFiles) {
		t.Fatalf("files %v, want exactly %v", got, devFiles)
	}
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o700 {
			t.Errorf("dir mode %v, want 0700", fi.Mode().Perm())
		}
		for _, n := range devFiles {
			fi, err := os.Stat(filepath.Join(dir, n))
			if err != nil {
				t.Fatal(err)
			}
			want := fs.FileMode(0o644)
			if strings.HasSuffix(n, ".key") {
				want = 0o600
			}
			if fi.Mode().Perm() != want {
				t.Errorf("%s mode %v, want %v", n, fi.Mode().Perm(), want)
			}
		}
	}

	ca, err := LoadCA(p.CACert, p.CAKey)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ca.Cert.Subject.CommonName, "remotectl dev CA ") {
		t.Errorf("CA CN %q", ca.Cert.Subject.CommonName)
	}
	srv := verifyLeaf(t, ca, readFileT(t, p.ServerCert), x509.ExtKeyUsageServerAuth)
	for _, h := range []string{"ctld.example.test", "10.0.0.5", "localhost", "127.0.0.1"} {
		if err := srv.VerifyHostname(h); err != nil {
			t.Errorf("server certificate not valid for %q: %v", h, err)
		}
	}
	if err := srv.VerifyHostname("elsewhere.example.test"); err == nil {
		t.Error("server certificate valid for a host not given")
	}
	cli := verifyLeaf(t, ca, readFileT(t, p.ClientCert), x509.ExtKeyUsageClientAuth)
	if cli.Subject.CommonName != DevAdminCommonName {
		t.Errorf("client CN %q", cli.Subject.CommonName)
	}

	// The files are a working mTLS setup.
	serverCfg, err := ServerTLSConfig(p.CACert, p.ServerCert, p.ServerKey)
	if err != nil {
		t.Fatal(err)
	}
	clientCfg, err := ClientTLSConfig(p.CACert, p.ClientCert, p.ClientKey, "localhost")
	if err != nil {
		t.Fatal(err)
	}
	res := handshake(t, serverCfg, clientCfg)
	if res.serverErr != nil || res.clientErr != nil {
		t.Fatalf("handshake with dev PKI: server %v, client %v", res.serverErr, res.clientErr)
	}
	if got := PeerIdentity(res.server).String(); got != "CN=remotectl-admin" {
		t.Errorf("identity %q", got)
	}

	before := snapshot(t, dir)
	created, _, err = EnsureDevPKI(dir, []string{"different.example.test"})
	if err != nil || created {
		t.Fatalf("second call: created=%v err=%v", created, err)
	}
	after := snapshot(t, dir)
	if len(after) != len(before) {
		t.Fatalf("second call changed the file set: %v", dirNames(t, dir))
	}
	for n, b := range before {
		if !bytes.Equal(after[n], b) {
			t.Errorf("second call changed %s", n)
		}
	}

	// An operator may remove ca.key once the leaves exist.
	os.Remove(p.CAKey)
	if created, _, err = EnsureDevPKI(dir, nil); err != nil || created {
		t.Errorf("without ca.key: created=%v err=%v", created, err)
	}
}

func TestEnsureDevPKIReissuesMissingLeaf(t *testing.T) {
	for _, leaf := range []string{"server", "client"} {
		t.Run(leaf, func(t *testing.T) {
			dir := t.TempDir()
			if _, _, err := EnsureDevPKI(dir, []string{"localhost"}); err != nil {
				t.Fatal(err)
			}
			before := snapshot(t, dir)
			os.Remove(filepath.Join(dir, leaf+".crt"))
			os.Remove(filepath.Join(dir, leaf+".key"))

			created, p, err := EnsureDevPKI(dir, []string{"ctld.example.test", "192.0.2.7"})
			if err != nil || !created {
				t.Fatalf("created=%v err=%v", created, err)
			}
			after := snapshot(t, dir)
			if got := dirNames(t, dir); !slices.Equal(got, devFiles) {
				t.Fatalf("files %v", got)
			}
			for n := range before {
				changed := !bytes.Equal(before[n], after[n])
				if reissued := strings.HasPrefix(n, leaf+"."); changed != reissued {
					t.Errorf("%s changed=%v, want %v", n, changed, reissued)
				}
			}
			ca, err := LoadCA(p.CACert, p.CAKey)
			if err != nil {
				t.Fatal(err)
			}
			if leaf == "server" {
				c := verifyLeaf(t, ca, after["server.crt"], x509.ExtKeyUsageServerAuth)
				if !slices.Equal(c.DNSNames, []string{"ctld.example.test"}) || len(c.IPAddresses) != 1 || c.IPAddresses[0].String() != "192.0.2.7" {
					t.Errorf("re-issued SANs DNS=%v IP=%v", c.DNSNames, c.IPAddresses)
				}
			} else {
				verifyLeaf(t, ca, after["client.crt"], x509.ExtKeyUsageClientAuth)
			}
			if runtime.GOOS != "windows" {
				if fi, _ := os.Stat(filepath.Join(dir, leaf+".key")); fi == nil || fi.Mode().Perm() != 0o600 {
					t.Errorf("re-issued key mode %v", fi)
				}
			}
		})
	}
}

func TestEnsureDevPKIIncomplete(t *testing.T) {
	tests := []struct {
		name   string
		remove []string
		want   []string // substrings of the error: the files involved
	}{
		{"certificate without key", []string{"client.key"}, []string{"client.crt exists", "client.key is missing"}},
		{"key without certificate", []string{"server.crt"}, []string{"server.key exists", "server.crt is missing"}},
		{"leaves without CA", []string{"ca.crt"}, []string{"ca.crt is missing", "ca.key", "server.crt"}},
		{"leaf missing and no CA key", []string{"ca.key", "server.crt", "server.key"}, []string{"cannot issue", "server.crt", "ca.key is missing"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if _, _, err := EnsureDevPKI(dir, []string{"localhost"}); err != nil {
				t.Fatal(err)
			}
			for _, n := range tt.remove {
				if err := os.Remove(filepath.Join(dir, n)); err != nil {
					t.Fatal(err)
				}
			}
			before := snapshot(t, dir)
			created, _, err := EnsureDevPKI(dir, []string{"localhost"})
			if err == nil || created {
				t.Fatalf("created=%v err=%v, want an error", created, err)
			}
			for _, s := range tt.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
			after := snapshot(t, dir)
			if len(after) != len(before) {
				t.Errorf("failed call changed the file set: %v", dirNames(t, dir))
			}
			for n, b := range before {
				if !bytes.Equal(after[n], b) {
					t.Errorf("failed call changed %s", n)
				}
			}
		})
	}
}

func TestEnsureDevPKIBadInput(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "certs")
	if _, _, err := EnsureDevPKI(dir, []string{"bad host"}); err == nil {
		t.Fatal("invalid host accepted")
	}
	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("invalid host still wrote %v", names)
	}
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o600)
	if _, _, err := EnsureDevPKI(file, nil); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("EnsureDevPKI on a file: %v", err)
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "secret.key")
	for _, content := range []string{"first", "second, longer content"} {
		if err := WriteFileAtomic(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if got := string(readFileT(t, path)); got != content {
			t.Errorf("content %q, want %q", got, content)
		}
	}
	if runtime.GOOS != "windows" {
		if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
			t.Errorf("mode %v, want 0600", fi.Mode().Perm())
		}
	}
	if names := dirNames(t, dir); !slices.Equal(names, []string{"secret.key"}) {
		t.Errorf("temporary files left behind: %v", names)
	}
	if err := WriteFileAtomic(filepath.Join(dir, "missing", "x"), nil, 0o644); err == nil {
		t.Error("write into a missing directory succeeded")
	}
}

func TestEnsureDevPKIUsesExistingShortLivedCA(t *testing.T) {
	dir := t.TempDir()
	ca, err := NewCA("operator CA", 2*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	writeCA(t, dir, "ca", ca)
	created, p, err := EnsureDevPKI(dir, []string{"localhost"})
	if err != nil || !created {
		t.Fatalf("created=%v err=%v", created, err)
	}
	if !bytes.Equal(readFileT(t, p.CACert), ca.CertPEM()) {
		t.Error("existing CA certificate was replaced")
	}
	for _, f := range []string{p.ServerCert, p.ClientCert} {
		c := parseCertPEM(t, readFileT(t, f))
		if err := c.CheckSignatureFrom(ca.Cert); err != nil {
			t.Errorf("%s not signed by the existing CA: %v", f, err)
		}
		if c.NotAfter.After(ca.Cert.NotAfter) {
			t.Errorf("%s expires %v, after its CA (%v)", f, c.NotAfter, ca.Cert.NotAfter)
		}
	}
}
