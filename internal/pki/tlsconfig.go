package pki

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"
)

// alpnH2 is the only application protocol spoken: gRPC over HTTP/2.
var alpnH2 = []string{"h2"}

// ServerTLSConfig is ctld's side of the security contract: TLS 1.3 only,
// every client must present a certificate that verifies against the CA
// bundle in caFile and is valid for client authentication.
//
// The server certificate is served through a CertHolder (GetCertificate)
// and the CA pool per handshake (GetConfigForClient), so both can be
// swapped without rebuilding the listener (see ServerTLS, which also
// enforces revocation). Session tickets
// are off so every connection goes through full certificate verification
// against the current ClientCAs; gRPC connections are long-lived, so the
// lost resumption costs nothing noticeable.
func ServerTLSConfig(caFile, certFile, keyFile string) (*tls.Config, error) {
	s, err := NewServerTLS(ServerFiles{CA: caFile, Cert: certFile, Key: keyFile})
	if err != nil {
		return nil, err
	}
	return s.Config(), nil
}

// ClientTLSConfig is the client's side: TLS 1.3 only, the server must
// chain to the CA bundle in caFile, and the client certificate is always
// presented. An empty serverName lets gRPC derive it from the dial address.
//
// The certificate is offered through GetClientCertificate rather than
// Certificates: with Certificates, Go silently sends nothing when the
// server's acceptable-CA list does not match, turning "wrong CA" into a
// confusing "no certificate" on the server.
func ClientTLSConfig(caFile, certFile, keyFile, serverName string) (*tls.Config, error) {
	pool, err := loadCAPool(caFile)
	if err != nil {
		return nil, err
	}
	cert, err := loadKeyPair("client", certFile, keyFile, x509.ExtKeyUsageClientAuth)
	if err != nil {
		return nil, err
	}
	holder := NewCertHolder(cert)
	return &tls.Config{
		MinVersion:           tls.VersionTLS13,
		RootCAs:              pool,
		GetClientCertificate: holder.GetClientCertificate,
		ServerName:           serverName,
		NextProtos:           slices.Clone(alpnH2),
	}, nil
}

// CertHolder serves a certificate to crypto/tls callbacks and lets it be
// replaced atomically while connections are being accepted.
type CertHolder struct {
	cert atomic.Pointer[tls.Certificate]
}

// NewCertHolder returns a holder serving cert.
func NewCertHolder(cert *tls.Certificate) *CertHolder {
	h := &CertHolder{}
	h.cert.Store(cert)
	return h
}

// Set replaces the certificate used by subsequent handshakes.
func (h *CertHolder) Set(cert *tls.Certificate) { h.cert.Store(cert) }

// Certificate returns the certificate currently served.
func (h *CertHolder) Certificate() *tls.Certificate { return h.cert.Load() }

// GetCertificate implements tls.Config.GetCertificate.
func (h *CertHolder) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	if c := h.cert.Load(); c != nil {
		return c, nil
	}
	return nil, errors.New("pki: no server certificate loaded")
}

// GetClientCertificate implements tls.Config.GetClientCertificate.
func (h *CertHolder) GetClientCertificate(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
	if c := h.cert.Load(); c != nil {
		return c, nil
	}
	return nil, errors.New("pki: no client certificate loaded")
}

// loadCAPool reads a PEM bundle of trust anchors into a pool.
func loadCAPool(caFile string) (*x509.CertPool, error) {
	cas, err := loadCACerts(caFile)
	if err != nil {
		return nil, err
	}
	return poolOf(cas), nil
}

// loadCACerts reads the CA certificates of a PEM bundle of trust anchors.
// Unlike CertPool.AppendCertsFromPEM it fails on a bundle with no usable CA
// certificate, which catches "passed server.crt as the CA" at startup.
func loadCACerts(caFile string) ([]*x509.Certificate, error) {
	certs, err := readCerts("CA bundle", caFile)
	if err != nil {
		return nil, err
	}
	var cas []*x509.Certificate
	for _, c := range certs {
		if c.IsCA {
			cas = append(cas, c)
		}
	}
	if len(cas) == 0 {
		return nil, fmt.Errorf("pki: CA bundle %s holds no CA certificate (first is %q, not a CA)", caFile, certs[0].Subject)
	}
	return cas, nil
}

func poolOf(cas []*x509.Certificate) *x509.CertPool {
	pool := x509.NewCertPool()
	for _, c := range cas {
		pool.AddCert(c)
	}
	return pool
}

// loadKeyPair loads a certificate and its key and rejects, with the file
// named, what would only fail later at handshake time: a mismatched key,
// an expired certificate, or one not valid for the role's key usage.
func loadKeyPair(role, certFile, keyFile string, usage x509.ExtKeyUsage) (*tls.Certificate, error) {
	certPEM, err := readFile(role+" certificate", certFile)
	if err != nil {
		return nil, err
	}
	keyPEM, err := readFile(role+" key", keyFile)
	if err != nil {
		return nil, err
	}
	if _, err := parseCertsPEM(certPEM); err != nil {
		return nil, fmt.Errorf("pki: %s certificate %s: %w", role, certFile, err)
	}
	if _, err := parseKeyPEM(keyPEM); err != nil {
		return nil, fmt.Errorf("pki: %s key %s: %w", role, keyFile, err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("pki: %s key pair %s / %s: %w", role, certFile, keyFile, err)
	}
	leaf := cert.Leaf
	if leaf == nil {
		if leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return nil, fmt.Errorf("pki: %s certificate %s: %w", role, certFile, err)
		}
		cert.Leaf = leaf
	}
	if now := time.Now(); now.After(leaf.NotAfter) {
		return nil, fmt.Errorf("pki: %s certificate %s (%s) expired at %s",
			role, certFile, leaf.Subject, leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	if !hasExtKeyUsage(leaf, usage) {
		return nil, fmt.Errorf("pki: %s certificate %s (%s) is not valid for %s (extended key usages: %v)",
			role, certFile, leaf.Subject, extKeyUsageName(usage), extKeyUsageNames(leaf))
	}
	return &cert, nil
}

// hasExtKeyUsage mirrors x509 verification: no EKU or "any" allows all.
func hasExtKeyUsage(c *x509.Certificate, want x509.ExtKeyUsage) bool {
	if len(c.ExtKeyUsage) == 0 && len(c.UnknownExtKeyUsage) == 0 {
		return true
	}
	return slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageAny) || slices.Contains(c.ExtKeyUsage, want)
}
