// Package pki is remotectl's certificate tooling: a small CA that issues
// ECDSA P-256 server and client certificates, the first-run dev PKI written
// by ctld, and the TLS configurations that make up the product's security
// contract (TLS 1.3 only, client certificates required and verified).
//
// It uses only the standard library so that ctld, the client and ctl can
// all share it without pulling in dependencies.
package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"time"
)

const (
	// DefaultCAValidity is the lifetime of a CA made by NewCA when no
	// validity is given: long, because replacing a CA means re-issuing
	// and redistributing every certificate.
	DefaultCAValidity = 10 * 365 * 24 * time.Hour
	// DefaultLeafValidity is the lifetime of a server or client certificate
	// when no validity is given.
	DefaultLeafValidity = 365 * 24 * time.Hour
	// ClockSkew is how far NotBefore is backdated so that a certificate
	// issued on one machine is already valid on a peer whose clock lags.
	ClockSkew = 5 * time.Minute
)

// PEM block types written by this package.
const (
	pemCertificate = "CERTIFICATE"
	pemPrivateKey  = "PRIVATE KEY" // PKCS#8
)

// CA is a certificate authority able to issue leaf certificates.
type CA struct {
	// Cert is the CA certificate (the trust anchor given to peers).
	Cert *x509.Certificate
	key  crypto.Signer
}

// NewCA creates a self-signed CA with a fresh ECDSA P-256 key. A zero
// validity means DefaultCAValidity. The CA may only sign leaves
// (MaxPathLen 0): remotectl has no use for intermediates, and forbidding
// them means a mis-issued certificate can never act as a sub-CA.
func NewCA(commonName string, validity time.Duration) (*CA, error) {
	if commonName == "" {
		return nil, errors.New("pki: CA common name is empty")
	}
	if validity < 0 {
		return nil, fmt.Errorf("pki: negative CA validity %v", validity)
	}
	if validity == 0 {
		validity = DefaultCAValidity
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("pki: generate CA key: %w", err)
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	ski, err := subjectKeyID(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: commonName},
		NotBefore:             now.Add(-ClockSkew),
		NotAfter:              now.Add(validity),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLen:            0,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		SubjectKeyId:          ski,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("pki: create CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("pki: parse new CA certificate: %w", err)
	}
	return &CA{Cert: cert, key: key}, nil
}

// LoadCA reads a CA from a PEM certificate file (the first certificate is
// used) and a PEM private key file (PKCS#8, SEC 1 "EC PRIVATE KEY" or
// PKCS#1 "RSA PRIVATE KEY", so CAs made with openssl work too). It checks
// that the certificate is a CA and that the key belongs to it.
func LoadCA(certFile, keyFile string) (*CA, error) {
	certs, err := readCerts("CA certificate", certFile)
	if err != nil {
		return nil, err
	}
	cert := certs[0]
	if !cert.IsCA || !cert.BasicConstraintsValid {
		return nil, fmt.Errorf("pki: CA certificate %s (%s) is not a CA certificate", certFile, cert.Subject)
	}
	if cert.KeyUsage != 0 && cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, fmt.Errorf("pki: CA certificate %s lacks the certSign key usage", certFile)
	}
	keyPEM, err := readFile("CA key", keyFile)
	if err != nil {
		return nil, err
	}
	key, err := parseKeyPEM(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("pki: CA key %s: %w", keyFile, err)
	}
	if !certKeyMatches(cert, key) {
		return nil, fmt.Errorf("pki: CA key %s does not match CA certificate %s", keyFile, certFile)
	}
	return &CA{Cert: cert, key: key}, nil
}

// CertPEM returns the CA certificate in PEM form.
func (ca *CA) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: pemCertificate, Bytes: ca.Cert.Raw})
}

// KeyPEM returns the CA private key as a PKCS#8 "PRIVATE KEY" PEM block.
func (ca *CA) KeyPEM() ([]byte, error) {
	return marshalKeyPEM(ca.key)
}

// Pool returns a certificate pool holding only this CA, for verification.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// newSerial returns a random positive 128-bit serial number; RFC 5280
// wants at least 64 bits of entropy and at most 20 octets.
func newSerial() (*big.Int, error) {
	limit := new(big.Int).Lsh(big.NewInt(1), 128)
	for {
		n, err := rand.Int(rand.Reader, limit)
		if err != nil {
			return nil, fmt.Errorf("pki: generate serial: %w", err)
		}
		if n.Sign() > 0 {
			return n, nil
		}
	}
}

// subjectKeyID derives the key identifier from the public key (RFC 7093
// method 1: truncated SHA-256 of the subjectPublicKey bits), so that
// AuthorityKeyId in issued leaves points at the right CA key.
func subjectKeyID(pub *ecdsa.PublicKey) ([]byte, error) {
	k, err := pub.ECDH()
	if err != nil {
		return nil, fmt.Errorf("pki: public key: %w", err)
	}
	sum := sha256.Sum256(k.Bytes())
	return sum[:20], nil
}

func marshalKeyPEM(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("pki: marshal private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemPrivateKey, Bytes: der}), nil
}

// parseCertsPEM returns every CERTIFICATE block in data, ignoring other
// block types (bundles often carry keys or parameters alongside).
func parseCertsPEM(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != pemCertificate {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate #%d: %w", len(certs)+1, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, errors.New("no PEM CERTIFICATE found")
	}
	return certs, nil
}

// parseKeyPEM decodes the first private key block in data.
func parseKeyPEM(data []byte) (crypto.Signer, error) {
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, errors.New("no PEM private key found")
		}
		var (
			k   any
			err error
		)
		switch block.Type {
		case "PRIVATE KEY":
			k, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		case "EC PRIVATE KEY":
			k, err = x509.ParseECPrivateKey(block.Bytes)
		case "RSA PRIVATE KEY":
			k, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		case "ENCRYPTED PRIVATE KEY":
			return nil, errors.New("encrypted private keys are not supported; decrypt it first (openssl pkey -in KEY -out KEY.plain)")
		default:
			continue
		}
		if err != nil {
			return nil, err
		}
		s, ok := k.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("unsupported private key type %T", k)
		}
		return s, nil
	}
}

// readFile reads a file and reports failures as "read <what> <path>: <why>"
// without repeating the path that *os.PathError already carries.
func readFile(what, path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fileError("read "+what, path, err)
	}
	return data, nil
}

// readCerts reads the certificates of a PEM file; what names the file in
// errors.
func readCerts(what, path string) ([]*x509.Certificate, error) {
	data, err := readFile(what, path)
	if err != nil {
		return nil, err
	}
	certs, err := parseCertsPEM(data)
	if err != nil {
		return nil, fmt.Errorf("pki: %s %s: %w", what, path, err)
	}
	return certs, nil
}

func fileError(op, path string, err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("pki: %s %s: %w", op, path, err)
}

// certKeyMatches reports whether key is the private key of cert.
func certKeyMatches(cert *x509.Certificate, key crypto.Signer) bool {
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	return ok && pub.Equal(cert.PublicKey)
}
