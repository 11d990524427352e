package pki

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"time"
)

// VerifyPeer verifies the client certificate of an established connection
// again against the current material: the CA bundle, the revocation list
// and the revoked serials as they are now, and the current time. A reload
// uses it to close connections whose client was revoked or whose CA was
// removed from the bundle since they connected.
func (s *ServerTLS) VerifyPeer(cs tls.ConnectionState) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("pki: the connection presented no client certificate")
	}
	leaf := cs.PeerCertificates[0]
	inter := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	chains, err := leaf.Verify(x509.VerifyOptions{
		Roots:         s.trust.Load().pool,
		Intermediates: inter,
		CurrentTime:   time.Now(),
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return fmt.Errorf("pki: client %q no longer verifies: %w", leaf.Subject.String(), err)
	}
	return s.verifyConnection(tls.ConnectionState{VerifiedChains: chains})
}
