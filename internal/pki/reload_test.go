package pki

import (
	"crypto/tls"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func serialOf(t *testing.T, certPEM []byte) *big.Int {
	t.Helper()
	return parseCertPEM(t, certPEM).SerialNumber
}

func TestRevokedSerialRefusedAtHandshake(t *testing.T) {
	f := newTLSFixture(t)
	cli := readFileT(t, f.cliCert)
	s, err := NewServerTLS(ServerFiles{CA: f.caFile, Cert: f.srvCert, Key: f.srvKey})
	if err != nil {
		t.Fatal(err)
	}
	clientCfg, err := ClientTLSConfig(f.caFile, f.cliCert, f.cliKey, "localhost")
	if err != nil {
		t.Fatal(err)
	}
	if r := handshake(t, s.Config(), clientCfg); r.serverErr != nil || r.clientErr != nil {
		t.Fatalf("before revocation: server %v, client %v", r.serverErr, r.clientErr)
	}
	// Revoke by configured serial, written with colons and upper case.
	serial := serialOf(t, cli)
	hexs := serial.Text(16)
	if len(hexs)%2 == 1 {
		hexs = "0" + hexs
	}
	var colon string
	for i := 0; i < len(hexs); i += 2 {
		if i > 0 {
			colon += ":"
		}
		colon += hexs[i : i+2]
	}
	err = s.Reload(ServerFiles{CA: f.caFile, Cert: f.srvCert, Key: f.srvKey, RevokedSerials: []string{"0X" + colon}})
	if err != nil {
		t.Fatal(err)
	}
	r := handshake(t, s.Config(), clientCfg)
	if !errors.Is(r.serverErr, ErrRevoked) || r.clientErr == nil {
		t.Fatalf("revoked serial: server %v, client %v; want ErrRevoked", r.serverErr, r.clientErr)
	}
}

func TestCRLRevokes(t *testing.T) {
	f := newTLSFixture(t)
	crlFile := f.writeCRL(t, serialOf(t, readFileT(t, f.cliCert)))
	s, err := NewServerTLS(ServerFiles{CA: f.caFile, Cert: f.srvCert, Key: f.srvKey, CRL: crlFile})
	if err != nil {
		t.Fatal(err)
	}
	clientCfg, _ := ClientTLSConfig(f.caFile, f.cliCert, f.cliKey, "localhost")
	if r := handshake(t, s.Config(), clientCfg); !errors.Is(r.serverErr, ErrRevoked) {
		t.Fatalf("CRL-revoked client: server %v; want ErrRevoked", r.serverErr)
	}
	// A CRL from another CA is refused at load, not ignored.
	other := newTestCA(t, "other")
	bad, _ := other.RevocationList(nil, time.Hour)
	badFile := filepath.Join(f.dir, "other.crl")
	_ = os.WriteFile(badFile, bad, 0o644)
	if _, err := NewServerTLS(ServerFiles{CA: f.caFile, Cert: f.srvCert, Key: f.srvKey, CRL: badFile}); err == nil {
		t.Fatal("CRL signed by a foreign CA accepted")
	}
	garbage := filepath.Join(f.dir, "garbage.crl")
	_ = os.WriteFile(garbage, []byte("not a crl"), 0o644)
	if _, err := NewServerTLS(ServerFiles{CA: f.caFile, Cert: f.srvCert, Key: f.srvKey, CRL: garbage}); err == nil {
		t.Fatal("garbage CRL accepted")
	}
	for _, s := range []string{"", "xyz", "-1", "0x"} {
		if _, err := ParseSerial(s); err == nil {
			t.Errorf("ParseSerial(%q) accepted", s)
		}
	}
}

func TestReloadSwapsCAAndCertificate(t *testing.T) {
	f := newTLSFixture(t)
	s, err := NewServerTLS(ServerFiles{CA: f.caFile, Cert: f.srvCert, Key: f.srvKey})
	if err != nil {
		t.Fatal(err)
	}
	oldSerial := s.Certificate().SerialNumber
	if s.Changed() {
		t.Fatal("Changed right after load")
	}
	// New CA: its clients are refused until the bundle on disk changes.
	ca2 := newTestCA(t, "second CA")
	c2, k2, err := ca2.IssueClient("bob", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	bobCfg := func() *tls.Config {
		cfg, _ := ClientTLSConfig(f.caFile, f.cliCert, f.cliKey, "localhost")
		pair, _ := tls.X509KeyPair(c2, k2)
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &pair, nil }
		return cfg
	}
	if r := handshake(t, s.Config(), bobCfg()); r.serverErr == nil {
		t.Fatal("client of an unknown CA accepted")
	}
	bundle := append(readFileT(t, f.caFile), ca2.CertPEM()...)
	// The bundle grows: its size marks the change even where the clock is
	// too coarse to give the rewritten files a new mtime.
	if err := WriteFileAtomic(f.caFile, bundle, 0o644); err != nil {
		t.Fatal(err)
	}
	srv, key, _ := f.ca.IssueServer("", []string{"localhost"}, time.Hour)
	if err := WriteFileAtomic(f.srvCert, srv, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(f.srvKey, key, 0o600); err != nil {
		t.Fatal(err)
	}
	if !s.Changed() {
		t.Fatal("Changed false after rewriting the files")
	}
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	if r := handshake(t, s.Config(), bobCfg()); r.serverErr != nil || r.clientErr != nil {
		t.Fatalf("after CA reload: server %v, client %v", r.serverErr, r.clientErr)
	}
	if s.Certificate().SerialNumber.Cmp(oldSerial) == 0 {
		t.Fatal("server certificate not swapped")
	}
	// A broken file keeps the old material serving.
	if err := os.WriteFile(f.srvKey, []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.Reload(); err == nil {
		t.Fatal("reload with a junk key succeeded")
	}
	if got := s.Certificate(); got == nil || got.SerialNumber.Cmp(parseCertPEM(t, srv).SerialNumber) != 0 {
		t.Fatal("failed reload replaced the certificate")
	}
}
