package pki

import (
	"crypto/tls"
	"crypto/x509"
	"strconv"
	"strings"
)

// Identity is who a verified peer certificate says the peer is. Role
// mapping and audit logs use it; it is only meaningful when taken from a
// verified chain, which PeerIdentity guarantees.
type Identity struct {
	CommonName          string   `json:"common_name"`
	OrganizationalUnits []string `json:"organizational_units,omitempty"`
	URIs                []string `json:"uris,omitempty"`
	DNSNames            []string `json:"dns_names,omitempty"`
	// Serial is the certificate serial number in lower-case hex.
	Serial string `json:"serial"`
	// Subject is the full subject DN in RFC 2253 form ("CN=alice,OU=ops").
	Subject string `json:"subject"`
	// Issuer is the issuing CA's subject DN: any CA of the bundle can mint
	// any subject, so bindings may require the issuer too.
	Issuer string `json:"issuer,omitempty"`
}

// PeerIdentity returns the identity of the verified peer leaf certificate
// of a completed handshake. It deliberately ignores PeerCertificates: an
// unverified certificate proves nothing, so without a verified chain the
// zero Identity is returned.
func PeerIdentity(state tls.ConnectionState) Identity {
	if len(state.VerifiedChains) == 0 || len(state.VerifiedChains[0]) == 0 {
		return Identity{}
	}
	return IdentityFromCert(state.VerifiedChains[0][0])
}

// IdentityFromCert extracts the identity fields of cert. The caller is
// responsible for having verified it.
func IdentityFromCert(cert *x509.Certificate) Identity {
	if cert == nil {
		return Identity{}
	}
	id := Identity{
		CommonName:          cert.Subject.CommonName,
		OrganizationalUnits: append([]string(nil), cert.Subject.OrganizationalUnit...),
		DNSNames:            append([]string(nil), cert.DNSNames...),
		Subject:             cert.Subject.String(),
		Issuer:              cert.Issuer.String(),
	}
	if cert.SerialNumber != nil {
		id.Serial = cert.SerialNumber.Text(16)
	}
	for _, u := range cert.URIs {
		id.URIs = append(id.URIs, u.String())
	}
	return id
}

// IsZero reports whether no identity is present (no verified certificate).
func (id Identity) IsZero() bool {
	return id.CommonName == "" && id.Serial == "" && id.Subject == "" &&
		len(id.OrganizationalUnits)+len(id.URIs)+len(id.DNSNames) == 0
}

// String is a compact, single-line form for logs, such as
// "CN=alice,OU=operators uri=spiffe://example.org/alice". Values with
// spaces, separators or control characters are quoted so a crafted name
// cannot forge extra log fields or lines.
func (id Identity) String() string {
	if id.IsZero() {
		return "<no identity>"
	}
	var b strings.Builder
	b.WriteString("CN=")
	b.WriteString(logValue(id.CommonName))
	for _, ou := range id.OrganizationalUnits {
		b.WriteString(",OU=")
		b.WriteString(logValue(ou))
	}
	for _, u := range id.URIs {
		b.WriteString(" uri=")
		b.WriteString(logValue(u))
	}
	for _, d := range id.DNSNames {
		b.WriteString(" dns=")
		b.WriteString(logValue(d))
	}
	return b.String()
}

func logValue(s string) string {
	if s == "" {
		return `""`
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f || r == ',' || r == '=' || r == '"' || !strconv.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}
