package pki

import (
	"crypto/x509"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCRLRevokesOnlyItsIssuersSerials: serials are unique per CA, not across
// a bundle of several: a CRL of one CA must not revoke another CA's
// certificate that happens to carry the same serial, while revoked_serials
// (no issuer) still revoke any (issue 13, finding 8).
func TestCRLRevokesOnlyItsIssuersSerials(t *testing.T) {
	f := newTLSFixture(t)
	other := newTestCA(t, "other CA")
	bundle := append(readFileT(t, f.caFile), other.CertPEM()...)
	caFile := filepath.Join(f.dir, "bundle.crt")
	if err := os.WriteFile(caFile, bundle, 0o644); err != nil {
		t.Fatal(err)
	}
	serial := big.NewInt(4242)
	crlFile := f.writeCRL(t, serial)
	s, err := NewServerTLS(ServerFiles{CA: caFile, Cert: f.srvCert, Key: f.srvKey, CRL: crlFile})
	if err != nil {
		t.Fatal(err)
	}
	fromCA := &x509.Certificate{SerialNumber: serial, Issuer: f.ca.Cert.Subject}
	fromOther := &x509.Certificate{SerialNumber: serial, Issuer: other.Cert.Subject}
	if !s.IsCertRevoked(fromCA) {
		t.Error("the CRL's own CA's certificate is not revoked")
	}
	if s.IsCertRevoked(fromOther) {
		t.Error("another CA's certificate with the same serial is revoked by this CA's CRL")
	}
	if err := s.Reload(ServerFiles{CA: caFile, Cert: f.srvCert, Key: f.srvKey, RevokedSerials: []string{"1092"}}); err != nil {
		t.Fatal(err)
	}
	if !s.IsCertRevoked(fromOther) || !s.IsCertRevoked(fromCA) {
		t.Error("revoked_serials (no issuer) must revoke the serial for every CA")
	}
}

// TestWarningsStaleCRLAndExpiringCA: a CRL past its nextUpdate and a CA that
// expired or expires soon are reported (issue 13, finding 14).
func TestWarningsStaleCRLAndExpiringCA(t *testing.T) {
	f := newTLSFixture(t)
	crlFile := f.writeCRL(t)
	s, err := NewServerTLS(ServerFiles{CA: f.caFile, Cert: f.srvCert, Key: f.srvKey, CRL: crlFile})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if w := s.Warnings(now, time.Minute); len(w) != 0 {
		t.Fatalf("fresh material: %v", w)
	}
	later := now.Add(2 * time.Hour)
	w := s.Warnings(later, f.ca.Cert.NotAfter.Sub(later)+time.Hour)
	if len(w) != 2 || !strings.Contains(w[0], "is stale") || !strings.Contains(w[1], "expires at") {
		t.Fatalf("two hours later: %v, want a stale CRL and an expiring CA", w)
	}
	if w := s.Warnings(f.ca.Cert.NotAfter.Add(time.Hour), 0); len(w) != 2 || !strings.Contains(w[1], "expired at") {
		t.Fatalf("after the CA's expiry: %v", w)
	}
}
