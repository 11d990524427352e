package pki

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// RevocationList signs a PEM CRL revoking serials, valid for validity
// (the agent does not enforce NextUpdate; operators reissue on change).
func (ca *CA) RevocationList(serials []*big.Int, validity time.Duration) ([]byte, error) {
	if ca == nil || ca.key == nil {
		return nil, errors.New("pki: CA has no private key")
	}
	now := time.Now()
	tmpl := &x509.RevocationList{
		Number:     big.NewInt(now.UnixNano()),
		ThisUpdate: now.Add(-ClockSkew),
		NextUpdate: now.Add(validity),
	}
	for _, s := range serials {
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries,
			x509.RevocationListEntry{SerialNumber: s, RevocationTime: now})
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, ca.Cert, ca.key)
	if err != nil {
		return nil, fmt.Errorf("pki: sign CRL: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}), nil
}
