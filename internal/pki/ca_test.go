package pki

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestNewCA(t *testing.T) {
	before := time.Now()
	ca, err := NewCA("Example CA", 48*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c := ca.Cert
	if !c.IsCA || !c.BasicConstraintsValid || c.MaxPathLen != 0 || !c.MaxPathLenZero {
		t.Errorf("IsCA=%v BasicConstraintsValid=%v MaxPathLen=%d MaxPathLenZero=%v", c.IsCA, c.BasicConstraintsValid, c.MaxPathLen, c.MaxPathLenZero)
	}
	if c.KeyUsage != x509.KeyUsageCertSign|x509.KeyUsageCRLSign {
		t.Errorf("KeyUsage = %v", keyUsageNames(c.KeyUsage))
	}
	if c.Subject.CommonName != "Example CA" || c.Issuer.CommonName != "Example CA" {
		t.Errorf("subject %q issuer %q", c.Subject, c.Issuer)
	}
	if pub, ok := c.PublicKey.(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P256() {
		t.Errorf("public key %T, want ECDSA P-256", c.PublicKey)
	}
	if len(c.SubjectKeyId) == 0 {
		t.Error("no SubjectKeyId")
	}
	if n := c.SerialNumber.BitLen(); c.SerialNumber.Sign() <= 0 || n > 128 || n < 64 {
		t.Errorf("serial %x has %d bits", c.SerialNumber, n)
	}
	if skew := before.Sub(c.NotBefore); skew < ClockSkew-time.Second || skew > ClockSkew+time.Minute {
		t.Errorf("NotBefore is backdated by %v, want about %v", skew, ClockSkew)
	}
	if d := c.NotAfter.Sub(before); d < 47*time.Hour || d > 49*time.Hour {
		t.Errorf("validity %v, want 48h", d)
	}
	if err := c.CheckSignatureFrom(c); err != nil {
		t.Errorf("not self-signed: %v", err)
	}

	def, err := NewCA("Default", 0)
	if err != nil {
		t.Fatal(err)
	}
	if d := def.Cert.NotAfter.Sub(before); d < DefaultCAValidity-time.Hour || d > DefaultCAValidity+time.Hour {
		t.Errorf("default CA validity %v, want %v", d, DefaultCAValidity)
	}
	if def.Cert.SerialNumber.Cmp(c.SerialNumber) == 0 {
		t.Error("two CAs share a serial number")
	}
	if _, err := NewCA("", 0); err == nil {
		t.Error("NewCA with empty name succeeded")
	}
}

func TestLoadCARoundTrip(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t, "Round Trip CA")
	certFile, keyFile := writeCA(t, dir, "ca", ca)
	if block, _ := pem.Decode(readFileT(t, keyFile)); block == nil || block.Type != "PRIVATE KEY" {
		t.Fatalf("KeyPEM is not a PKCS#8 PRIVATE KEY block")
	}
	loaded, err := LoadCA(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(loaded.CertPEM(), ca.CertPEM()) {
		t.Error("loaded CA certificate differs")
	}
	certPEM, _, err := loaded.IssueClient("bob", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	leaf := verifyLeaf(t, ca, certPEM, x509.ExtKeyUsageClientAuth)
	if !bytes.Equal(leaf.AuthorityKeyId, ca.Cert.SubjectKeyId) {
		t.Errorf("AuthorityKeyId %x != CA SubjectKeyId %x", leaf.AuthorityKeyId, ca.Cert.SubjectKeyId)
	}

	// SEC 1 keys (openssl ecparam -genkey) load too.
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalECPrivateKey(ecKey)
	sec1 := filepath.Join(dir, "sec1.key")
	os.WriteFile(sec1, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600)

	other := newTestCA(t, "Other CA")
	_, otherKey := writeCA(t, dir, "other", other)
	leafCert, leafKey := writePair(t, dir, "leaf", certPEM, nil)
	tests := []struct {
		name, cert, key, want string
	}{
		{"key of another CA", certFile, otherKey, "does not match"},
		{"SEC 1 key of another CA", certFile, sec1, "does not match"},
		{"leaf is not a CA", leafCert, keyFile, "not a CA certificate"},
		{"missing key", certFile, filepath.Join(dir, "none.key"), "read CA key"},
		{"empty key file", certFile, leafKey, "no PEM private key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadCA(tt.cert, tt.key)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("LoadCA error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestIssueServerHosts(t *testing.T) {
	ca := newTestCA(t, "Hosts CA")
	tests := []struct {
		name    string
		hosts   []string
		wantDNS []string
		wantIPs []string
		wantErr string
	}{
		{"names and IPs", []string{"ctl.example.com", "10.0.0.5", "::1", "localhost"},
			[]string{"ctl.example.com", "localhost"}, []string{"10.0.0.5", "::1"}, ""},
		{"wildcard", []string{"*.example.com"}, []string{"*.example.com"}, nil, ""},
		{"duplicates and trailing dot", []string{"A.example.com", "a.example.com.", "127.0.0.1", "127.0.0.1"},
			[]string{"A.example.com"}, []string{"127.0.0.1"}, ""},
		{"bracketed IPv6", []string{"[fe80::1]"}, nil, []string{"fe80::1"}, ""},
		{"no hosts", nil, nil, nil, "at least one host"},
		{"empty host", []string{"ok.example.com", " "}, nil, nil, "empty host"},
		{"port", []string{"example.com:8443"}, nil, nil, "invalid character"},
		{"empty label", []string{"a..b"}, nil, nil, "empty label"},
		{"bare wildcard", []string{"*"}, nil, nil, "wildcard"},
		{"wildcard not leftmost", []string{"a.*.example.com"}, nil, nil, "wildcard"},
		{"partial wildcard", []string{"foo*.example.com"}, nil, nil, "wildcard"},
		{"leading hyphen", []string{"-bad.example.com"}, nil, nil, "starts or ends"},
		{"long label", []string{strings.Repeat("a", 64) + ".com"}, nil, nil, "longer than 63"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			certPEM, keyPEM, err := ca.IssueServer("", tt.hosts, time.Hour)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c := verifyLeaf(t, ca, certPEM, x509.ExtKeyUsageServerAuth)
			var ips []string
			for _, ip := range c.IPAddresses {
				ips = append(ips, ip.String())
			}
			if !slices.Equal(c.DNSNames, tt.wantDNS) || !slices.Equal(ips, tt.wantIPs) {
				t.Errorf("DNS %v IPs %v; want %v %v", c.DNSNames, ips, tt.wantDNS, tt.wantIPs)
			}
			if c.Subject.CommonName != strings.TrimSpace(tt.hosts[0]) {
				t.Errorf("CN %q, want first host", c.Subject.CommonName)
			}
			if !slices.Equal(c.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}) ||
				c.KeyUsage != x509.KeyUsageDigitalSignature || c.IsCA {
				t.Errorf("EKU %v KU %v IsCA %v", c.ExtKeyUsage, keyUsageNames(c.KeyUsage), c.IsCA)
			}
			if block, _ := pem.Decode(keyPEM); block == nil || block.Type != "PRIVATE KEY" {
				t.Error("key is not PKCS#8 PEM")
			}
		})
	}
}

func TestIssueClientOptions(t *testing.T) {
	ca := newTestCA(t, "Client CA")
	certPEM, _, err := ca.IssueClient("alice", 0,
		WithOU("operators", "oncall"), WithURI("spiffe://example.org/ops/alice"), WithDNS("alice.example.org"))
	if err != nil {
		t.Fatal(err)
	}
	c := verifyLeaf(t, ca, certPEM, x509.ExtKeyUsageClientAuth)
	if _, err := c.Verify(x509.VerifyOptions{Roots: ca.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err == nil {
		t.Error("client certificate verifies for server auth")
	}
	id := IdentityFromCert(c)
	if id.CommonName != "alice" || !slices.Equal(id.OrganizationalUnits, []string{"oncall", "operators"}) /* DER sorts the SET */ ||
		!slices.Equal(id.URIs, []string{"spiffe://example.org/ops/alice"}) || !slices.Equal(id.DNSNames, []string{"alice.example.org"}) {
		t.Errorf("identity %+v", id)
	}
	if d := time.Until(c.NotAfter); d < DefaultLeafValidity-time.Hour || d > DefaultLeafValidity {
		t.Errorf("default leaf validity %v, want %v", d, DefaultLeafValidity)
	}

	bad := []struct {
		name string
		cn   string
		opts []ClientOption
	}{
		{"empty CN", "", nil},
		{"relative URI", "x", []ClientOption{WithURI("ops/alice")}},
		{"URI without authority", "x", []ClientOption{WithURI("spiffe:")}},
		{"bad DNS", "x", []ClientOption{WithDNS("bad name")}},
		{"empty OU", "x", []ClientOption{WithOU("")}},
	}
	for _, tt := range bad {
		if _, _, err := ca.IssueClient(tt.cn, time.Hour, tt.opts...); err == nil {
			t.Errorf("%s: IssueClient succeeded", tt.name)
		}
	}
}

func TestIssueRequestValidation(t *testing.T) {
	ca := newTestCA(t, "Validation CA")
	client := []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	now := time.Now()
	tests := []struct {
		name    string
		req     Request
		wantErr string
	}{
		{"no EKU", Request{CommonName: "x"}, "extended key usage"},
		{"no name", Request{ExtKeyUsage: client}, "neither a common name"},
		{"inverted dates", Request{CommonName: "x", ExtKeyUsage: client, NotBefore: now, NotAfter: now.Add(-time.Hour)}, "not after"},
		{"outlives CA", Request{CommonName: "x", ExtKeyUsage: client, Validity: 20 * DefaultCAValidity}, "after the CA's expiry"},
		{"bad DNS SAN", Request{CommonName: "x", ExtKeyUsage: client, DNSNames: []string{"a b"}}, "DNS name"},
	}
	for _, tt := range tests {
		if _, _, err := ca.Issue(tt.req); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: error = %v, want it to contain %q", tt.name, err, tt.wantErr)
		}
	}

	// Explicit dates are honoured exactly (tests rely on this for expired certificates).
	nb, na := now.Add(-48*time.Hour).Truncate(time.Second), now.Add(-24*time.Hour).Truncate(time.Second)
	certPEM, _, err := ca.Issue(Request{CommonName: "old", ExtKeyUsage: client, NotBefore: nb, NotAfter: na})
	if err != nil {
		t.Fatal(err)
	}
	c := parseCertPEM(t, certPEM)
	if !c.NotBefore.Equal(nb) || !c.NotAfter.Equal(na) {
		t.Errorf("dates %v..%v, want %v..%v", c.NotBefore, c.NotAfter, nb, na)
	}
	if !ExpiresWithin(c, 0) {
		t.Error("expired certificate not reported by ExpiresWithin")
	}
}

func TestDefaultHosts(t *testing.T) {
	hosts := DefaultHosts()
	for _, want := range []string{"localhost", "127.0.0.1", "::1"} {
		if !slices.Contains(hosts, want) {
			t.Errorf("DefaultHosts() = %v, missing %q", hosts, want)
		}
	}
	if hn, err := os.Hostname(); err == nil && validateDNSName(hn) == nil && !slices.Contains(hosts, hn) {
		t.Errorf("DefaultHosts() = %v, missing host name %q", hosts, hn)
	}
	seen := map[string]bool{}
	for _, h := range hosts {
		if seen[strings.ToLower(h)] {
			t.Errorf("duplicate %q in %v", h, hosts)
		}
		seen[strings.ToLower(h)] = true
		if ip := net.ParseIP(h); ip != nil && h != "127.0.0.1" && h != "::1" && (ip.IsLoopback() || ip.IsLinkLocalUnicast()) {
			t.Errorf("unexpected loopback/link-local address %q", h)
		}
	}
	if _, _, err := ParseHosts(hosts); err != nil {
		t.Errorf("DefaultHosts() not accepted by ParseHosts: %v", err)
	}
}
