package pki

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// Info is a human-oriented summary of one certificate, for
// "ctl certs inspect". JSON tags let the CLI offer a machine-readable form.
type Info struct {
	Subject            string    `json:"subject"`
	Issuer             string    `json:"issuer"`
	Serial             string    `json:"serial"` // lower-case hex
	NotBefore          time.Time `json:"not_before"`
	NotAfter           time.Time `json:"not_after"`
	DNSNames           []string  `json:"dns_names,omitempty"`
	IPAddresses        []string  `json:"ip_addresses,omitempty"`
	URIs               []string  `json:"uris,omitempty"`
	EmailAddresses     []string  `json:"email_addresses,omitempty"`
	KeyUsage           []string  `json:"key_usage,omitempty"`
	ExtKeyUsage        []string  `json:"ext_key_usage,omitempty"`
	IsCA               bool      `json:"is_ca"`
	PublicKey          string    `json:"public_key"` // e.g. "ECDSA P-256"
	SignatureAlgorithm string    `json:"signature_algorithm"`
	SubjectKeyID       string    `json:"subject_key_id,omitempty"`
	AuthorityKeyID     string    `json:"authority_key_id,omitempty"`
	// SHA256Fingerprint is the digest of the DER certificate, colon
	// separated upper-case hex as printed by openssl x509 -fingerprint.
	SHA256Fingerprint string `json:"sha256_fingerprint"`

	Cert *x509.Certificate `json:"-"`
}

// CertInfo summarises every certificate in certPEM (a PEM bundle; raw DER
// is accepted too). Non-certificate PEM blocks are skipped; input holding
// no certificate at all is an error.
func CertInfo(certPEM []byte) ([]Info, error) {
	certs, err := parseCertsPEM(certPEM)
	if err != nil {
		// Not PEM: maybe DER, as some tools write .cer/.der files.
		der, derr := x509.ParseCertificates(certPEM)
		if derr != nil || len(der) == 0 {
			return nil, fmt.Errorf("pki: %w", err)
		}
		certs = der
	}
	out := make([]Info, 0, len(certs))
	for _, c := range certs {
		out = append(out, infoOf(c))
	}
	return out, nil
}

func infoOf(c *x509.Certificate) Info {
	fp := sha256.Sum256(c.Raw)
	in := Info{
		Subject:            c.Subject.String(),
		Issuer:             c.Issuer.String(),
		Serial:             c.SerialNumber.Text(16),
		NotBefore:          c.NotBefore,
		NotAfter:           c.NotAfter,
		DNSNames:           c.DNSNames,
		EmailAddresses:     c.EmailAddresses,
		KeyUsage:           keyUsageNames(c.KeyUsage),
		ExtKeyUsage:        extKeyUsageNames(c),
		IsCA:               c.IsCA,
		PublicKey:          publicKeyName(c),
		SignatureAlgorithm: c.SignatureAlgorithm.String(),
		SubjectKeyID:       hex.EncodeToString(c.SubjectKeyId),
		AuthorityKeyID:     hex.EncodeToString(c.AuthorityKeyId),
		SHA256Fingerprint:  colonHex(fp[:]),
		Cert:               c,
	}
	for _, ip := range c.IPAddresses {
		in.IPAddresses = append(in.IPAddresses, ip.String())
	}
	for _, u := range c.URIs {
		in.URIs = append(in.URIs, u.String())
	}
	return in
}

// String renders the summary as indented "key: value" lines.
func (in Info) String() string {
	var b strings.Builder
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%-20s %s\n", k+":", v)
		}
	}
	line("Subject", in.Subject)
	line("Issuer", in.Issuer)
	line("Serial", in.Serial)
	line("Not before", in.NotBefore.UTC().Format(time.RFC3339))
	line("Not after", in.NotAfter.UTC().Format(time.RFC3339))
	line("DNS names", strings.Join(in.DNSNames, ", "))
	line("IP addresses", strings.Join(in.IPAddresses, ", "))
	line("URIs", strings.Join(in.URIs, ", "))
	line("Emails", strings.Join(in.EmailAddresses, ", "))
	line("Key usage", strings.Join(in.KeyUsage, ", "))
	line("Ext key usage", strings.Join(in.ExtKeyUsage, ", "))
	line("Is CA", fmt.Sprint(in.IsCA))
	line("Public key", in.PublicKey)
	line("Signature", in.SignatureAlgorithm)
	line("Subject key ID", in.SubjectKeyID)
	line("Authority key ID", in.AuthorityKeyID)
	line("SHA-256", in.SHA256Fingerprint)
	return b.String()
}

// ExpiresWithin reports whether cert is expired or will expire within d
// from now, for renewal warnings.
func ExpiresWithin(cert *x509.Certificate, d time.Duration) bool {
	return !time.Now().Add(d).Before(cert.NotAfter)
}

var keyUsageBits = []struct {
	bit  x509.KeyUsage
	name string
}{
	{x509.KeyUsageDigitalSignature, "DigitalSignature"},
	{x509.KeyUsageContentCommitment, "ContentCommitment"},
	{x509.KeyUsageKeyEncipherment, "KeyEncipherment"},
	{x509.KeyUsageDataEncipherment, "DataEncipherment"},
	{x509.KeyUsageKeyAgreement, "KeyAgreement"},
	{x509.KeyUsageCertSign, "CertSign"},
	{x509.KeyUsageCRLSign, "CRLSign"},
	{x509.KeyUsageEncipherOnly, "EncipherOnly"},
	{x509.KeyUsageDecipherOnly, "DecipherOnly"},
}

func keyUsageNames(ku x509.KeyUsage) []string {
	var out []string
	for _, k := range keyUsageBits {
		if ku&k.bit != 0 {
			out = append(out, k.name)
		}
	}
	return out
}

var extKeyUsageNamesTable = map[x509.ExtKeyUsage]string{
	x509.ExtKeyUsageAny:             "Any",
	x509.ExtKeyUsageServerAuth:      "ServerAuth",
	x509.ExtKeyUsageClientAuth:      "ClientAuth",
	x509.ExtKeyUsageCodeSigning:     "CodeSigning",
	x509.ExtKeyUsageEmailProtection: "EmailProtection",
	x509.ExtKeyUsageIPSECEndSystem:  "IPSECEndSystem",
	x509.ExtKeyUsageIPSECTunnel:     "IPSECTunnel",
	x509.ExtKeyUsageIPSECUser:       "IPSECUser",
	x509.ExtKeyUsageTimeStamping:    "TimeStamping",
	x509.ExtKeyUsageOCSPSigning:     "OCSPSigning",
}

func extKeyUsageName(u x509.ExtKeyUsage) string {
	if n, ok := extKeyUsageNamesTable[u]; ok {
		return n
	}
	return fmt.Sprintf("ExtKeyUsage(%d)", int(u))
}

func extKeyUsageNames(c *x509.Certificate) []string {
	var out []string
	for _, u := range c.ExtKeyUsage {
		out = append(out, extKeyUsageName(u))
	}
	for _, oid := range c.UnknownExtKeyUsage {
		out = append(out, oid.String())
	}
	return out
}

func publicKeyName(c *x509.Certificate) string {
	switch k := c.PublicKey.(type) {
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA %d", k.N.BitLen())
	case ed25519.PublicKey:
		return "Ed25519"
	default:
		return c.PublicKeyAlgorithm.String()
	}
}

func colonHex(b []byte) string {
	s := strings.ToUpper(hex.EncodeToString(b))
	var out strings.Builder
	for i := 0; i < len(s); i += 2 {
		if i > 0 {
			out.WriteByte(':')
		}
		out.WriteString(s[i : i+2])
	}
	return out.String()
}
