package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"
)

// Request describes a leaf certificate to issue. IssueServer and
// IssueClient fill it for the normal cases; tests and tools use it
// directly for unusual certificates (expired, odd key usages).
type Request struct {
	CommonName          string
	OrganizationalUnits []string
	DNSNames            []string
	IPAddresses         []net.IP
	URIs                []*url.URL

	// KeyUsage defaults to DigitalSignature, the only usage an ECDSA TLS
	// key needs.
	KeyUsage x509.KeyUsage
	// ExtKeyUsage is required: a leaf without it is accepted by Go for any
	// purpose, which would let a server certificate act as a client.
	ExtKeyUsage []x509.ExtKeyUsage

	// Validity is used when NotAfter is zero; zero means DefaultLeafValidity.
	Validity time.Duration
	// NotBefore defaults to now minus ClockSkew.
	NotBefore time.Time
	// NotAfter defaults to now plus Validity.
	NotAfter time.Time
}

// Issue creates a fresh ECDSA P-256 key and a certificate for it signed by
// the CA, both PEM encoded (the key as PKCS#8).
func (ca *CA) Issue(req Request) (certPEM, keyPEM []byte, err error) {
	if ca == nil || ca.key == nil {
		return nil, nil, errors.New("pki: CA has no private key")
	}
	if err := req.validate(); err != nil {
		return nil, nil, err
	}
	notBefore, notAfter, err := ca.window(req)
	if err != nil {
		return nil, nil, err
	}
	return ca.sign(req, notBefore, notAfter)
}

// validate checks the usages and names of a request.
func (req *Request) validate() error {
	if len(req.ExtKeyUsage) == 0 {
		return errors.New("pki: request has no extended key usage")
	}
	if req.CommonName == "" && len(req.DNSNames)+len(req.IPAddresses)+len(req.URIs) == 0 {
		return errors.New("pki: request has neither a common name nor a subject alternative name")
	}
	for _, d := range req.DNSNames {
		if err := validateDNSName(d); err != nil {
			return fmt.Errorf("pki: DNS name %q: %w", d, err)
		}
	}
	for _, u := range req.URIs {
		if u == nil || u.Scheme == "" {
			return fmt.Errorf("pki: URI SAN %v has no scheme", u)
		}
	}
	return nil
}

// window returns the validity period of req, in whole seconds, which must
// be non-empty and end before the CA's.
func (ca *CA) window(req Request) (notBefore, notAfter time.Time, err error) {
	now := time.Now()
	notBefore, notAfter = req.NotBefore, req.NotAfter
	if notBefore.IsZero() {
		notBefore = now.Add(-ClockSkew)
	}
	if notAfter.IsZero() {
		v := req.Validity
		if v < 0 {
			return time.Time{}, time.Time{}, fmt.Errorf("pki: negative validity %v", v)
		}
		if v == 0 {
			v = DefaultLeafValidity
		}
		notAfter = now.Add(v)
	}
	// Certificates carry whole seconds; compare what will be encoded.
	notBefore, notAfter = notBefore.Truncate(time.Second), notAfter.Truncate(time.Second)
	if !notAfter.After(notBefore) {
		return time.Time{}, time.Time{}, fmt.Errorf("pki: NotAfter %s is not after NotBefore %s", notAfter.Format(time.RFC3339), notBefore.Format(time.RFC3339))
	}
	// A leaf outliving its CA would silently stop verifying early; say so now.
	if notAfter.After(ca.Cert.NotAfter) {
		return time.Time{}, time.Time{}, fmt.Errorf("pki: requested expiry %s is after the CA's expiry %s; shorten the validity or renew the CA",
			notAfter.UTC().Format(time.RFC3339), ca.Cert.NotAfter.UTC().Format(time.RFC3339))
	}
	return notBefore, notAfter, nil
}

// sign generates the key and signs the certificate of a checked request.
func (ca *CA) sign(req Request, notBefore, notAfter time.Time) (certPEM, keyPEM []byte, err error) {
	ku := req.KeyUsage
	if ku == 0 {
		ku = x509.KeyUsageDigitalSignature
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: generate key: %w", err)
	}
	serial, err := newSerial()
	if err != nil {
		return nil, nil, err
	}
	ski, err := subjectKeyID(&key.PublicKey)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject: pkix.Name{
			CommonName:         req.CommonName,
			OrganizationalUnit: req.OrganizationalUnits,
		},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              ku,
		ExtKeyUsage:           req.ExtKeyUsage,
		BasicConstraintsValid: true,
		IsCA:                  false,
		DNSNames:              req.DNSNames,
		IPAddresses:           req.IPAddresses,
		URIs:                  req.URIs,
		SubjectKeyId:          ski,
		// CreateCertificate also copies the parent's SubjectKeyId here;
		// setting it explicitly documents the intent.
		AuthorityKeyId: ca.Cert.SubjectKeyId,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: sign certificate: %w", err)
	}
	keyPEM, err = marshalKeyPEM(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemCertificate, Bytes: der}), keyPEM, nil
}

// IssueServer issues a server certificate valid for hosts: each entry that
// parses as an IP goes into IPAddresses, the rest must be DNS names (a
// leading "*." wildcard is allowed). An empty commonName defaults to the
// first host; clients verify only the SANs.
func (ca *CA) IssueServer(commonName string, hosts []string, validity time.Duration) (certPEM, keyPEM []byte, err error) {
	dns, ips, err := ParseHosts(hosts)
	if err != nil {
		return nil, nil, err
	}
	if commonName == "" {
		commonName = strings.TrimSpace(hosts[0])
	}
	return ca.Issue(Request{
		CommonName:  commonName,
		DNSNames:    dns,
		IPAddresses: ips,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		Validity:    validity,
	})
}

// ClientOption adds identity attributes to a client certificate.
type ClientOption func(*Request) error

// WithOU adds OrganizationalUnit values to the subject (e.g. "operators").
// Several OUs are encoded as one DER SET, so they read back sorted.
func WithOU(ous ...string) ClientOption {
	return func(r *Request) error {
		for _, ou := range ous {
			if strings.TrimSpace(ou) == "" {
				return errors.New("pki: empty organizational unit")
			}
			r.OrganizationalUnits = append(r.OrganizationalUnits, ou)
		}
		return nil
	}
}

// WithURI adds URI SANs such as "spiffe://example.org/ops/alice". Each must
// be absolute (have a scheme).
func WithURI(uris ...string) ClientOption {
	return func(r *Request) error {
		for _, s := range uris {
			u, err := url.Parse(s)
			if err != nil {
				return fmt.Errorf("pki: URI SAN %q: %w", s, err)
			}
			if !u.IsAbs() || (u.Host == "" && u.Opaque == "") {
				return fmt.Errorf("pki: URI SAN %q must be absolute, like spiffe://domain/path", s)
			}
			r.URIs = append(r.URIs, u)
		}
		return nil
	}
}

// WithDNS adds DNS SANs to a client certificate.
func WithDNS(names ...string) ClientOption {
	return func(r *Request) error {
		for _, n := range names {
			if err := validateDNSName(n); err != nil {
				return fmt.Errorf("pki: DNS name %q: %w", n, err)
			}
			r.DNSNames = append(r.DNSNames, n)
		}
		return nil
	}
}

// IssueClient issues a client certificate whose subject CN (plus any OU,
// URI or DNS SANs from opts) is the caller's identity on the server.
func (ca *CA) IssueClient(commonName string, validity time.Duration, opts ...ClientOption) (certPEM, keyPEM []byte, err error) {
	if strings.TrimSpace(commonName) == "" {
		return nil, nil, errors.New("pki: client common name is empty")
	}
	req := Request{
		CommonName:  commonName,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		Validity:    validity,
	}
	for _, o := range opts {
		if err := o(&req); err != nil {
			return nil, nil, err
		}
	}
	return ca.Issue(req)
}

// ParseHosts splits host names and IP literals for a server certificate,
// dropping duplicates. It rejects an empty list, empty entries, ports and
// malformed names, so mistakes surface at issuance, not at handshake time.
func ParseHosts(hosts []string) (dnsNames []string, ips []net.IP, err error) {
	if len(hosts) == 0 {
		return nil, nil, errors.New("pki: at least one host (DNS name or IP) is required")
	}
	seen := make(map[string]bool)
	for _, h := range hosts {
		h = strings.TrimSpace(h)
		if h == "" {
			return nil, nil, errors.New("pki: empty host name")
		}
		if ip := net.ParseIP(strings.Trim(h, "[]")); ip != nil {
			if v4 := ip.To4(); v4 != nil {
				ip = v4
			}
			if k := "ip:" + ip.String(); !seen[k] {
				seen[k] = true
				ips = append(ips, ip)
			}
			continue
		}
		h = strings.TrimSuffix(h, ".")
		if err := validateDNSName(h); err != nil {
			return nil, nil, fmt.Errorf("pki: host %q: %w", h, err)
		}
		if k := "dns:" + strings.ToLower(h); !seen[k] {
			seen[k] = true
			dnsNames = append(dnsNames, h)
		}
	}
	return dnsNames, ips, nil
}

// validateDNSName does the minimal checks that catch typos: label lengths,
// allowed characters, and a wildcard only as the whole leftmost label.
// Underscores are tolerated because some real host names contain them.
func validateDNSName(name string) error {
	if name == "" {
		return errors.New("empty name")
	}
	if len(name) > 253 {
		return errors.New("longer than 253 characters")
	}
	labels := strings.Split(name, ".")
	for i, l := range labels {
		if l == "*" && i == 0 {
			if len(labels) < 2 {
				return errors.New("a wildcard needs a domain after it (*.example.com)")
			}
			continue
		}
		if l == "" {
			return errors.New("empty label")
		}
		if len(l) > 63 {
			return fmt.Errorf("label %q longer than 63 characters", l)
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return fmt.Errorf("label %q starts or ends with '-'", l)
		}
		for _, c := range l {
			switch {
			case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
			case c == '*':
				return errors.New("a wildcard is only allowed as the whole leftmost label")
			default:
				return fmt.Errorf("invalid character %q", c)
			}
		}
	}
	return nil
}

// DefaultHosts returns the names a locally reachable ctld should be valid
// for: the host name, localhost, the loopback IPs and the non-loopback
// unicast addresses of interfaces that are up. Entries are de-duplicated
// and every entry is acceptable to ParseHosts.
func DefaultHosts() []string {
	var out []string
	seen := make(map[string]bool)
	add := func(h string) {
		if h == "" || seen[strings.ToLower(h)] {
			return
		}
		if _, _, err := ParseHosts([]string{h}); err != nil {
			return // e.g. a host name with characters DNS does not allow
		}
		seen[strings.ToLower(h)] = true
		out = append(out, h)
	}
	if hn, err := os.Hostname(); err == nil {
		add(hn)
	}
	add("localhost")
	add("127.0.0.1")
	add("::1")
	ifaces, err := net.Interfaces()
	if err != nil {
		return out
	}
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			var ip net.IP
			switch v := a.(type) {
			case *net.IPNet:
				ip = v.IP
			case *net.IPAddr:
				ip = v.IP
			}
			// IsGlobalUnicast excludes loopback, link-local (unusable
			// without a zone) and multicast; private ranges are kept.
			if ip != nil && ip.IsGlobalUnicast() {
				add(ip.String())
			}
		}
	}
	return out
}
