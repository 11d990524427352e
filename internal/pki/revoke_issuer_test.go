package pki

import (
	"crypto/x509"
	"math/big"
	"os"
	"path/filepath"
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
	crl, err := f.ca.RevocationList([]*big.Int{serial}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	crlFile := filepath.Join(f.dir, "ca.crl")
	if err := os.WriteFile(crlFile, crl, 0o644); err != nil {
		t.Fatal(err)
	}
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
