package pki

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"
)

func TestCertInfo(t *testing.T) {
	ca := newTestCA(t, "Inspect CA")
	certPEM, keyPEM, err := ca.IssueServer("ctld", []string{"ctld.example.test", "10.0.0.5"}, 30*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	// A bundle with a key in the middle: the key is skipped, not an error.
	bundle := append(append(append([]byte{}, certPEM...), keyPEM...), ca.CertPEM()...)
	infos, err := CertInfo(bundle)
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 2 {
		t.Fatalf("got %d certificates, want 2", len(infos))
	}
	leaf, root := infos[0], infos[1]
	sum := sha256.Sum256(leaf.Cert.Raw)
	checks := []struct {
		name      string
		got, want any
	}{
		{"leaf subject", leaf.Subject, "CN=ctld"},
		{"leaf issuer", leaf.Issuer, "CN=Inspect CA"},
		{"leaf serial", leaf.Serial, leaf.Cert.SerialNumber.Text(16)},
		{"leaf DNS", strings.Join(leaf.DNSNames, ","), "ctld.example.test"},
		{"leaf IPs", strings.Join(leaf.IPAddresses, ","), "10.0.0.5"},
		{"leaf key usage", strings.Join(leaf.KeyUsage, ","), "DigitalSignature"},
		{"leaf ext key usage", strings.Join(leaf.ExtKeyUsage, ","), "ServerAuth"},
		{"leaf is CA", leaf.IsCA, false},
		{"leaf key", leaf.PublicKey, "ECDSA P-256"},
		{"leaf not after", leaf.NotAfter, leaf.Cert.NotAfter},
		{"leaf fingerprint", strings.ReplaceAll(leaf.SHA256Fingerprint, ":", ""), strings.ToUpper(hex.EncodeToString(sum[:]))},
		{"leaf AKI = CA SKI", leaf.AuthorityKeyID, root.SubjectKeyID},
		{"root is CA", root.IsCA, true},
		{"root key usage", strings.Join(root.KeyUsage, ","), "CertSign,CRLSign"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if len(leaf.SHA256Fingerprint) != 32*3-1 {
		t.Errorf("fingerprint %q is not colon-separated hex", leaf.SHA256Fingerprint)
	}
	text := leaf.String()
	for _, s := range []string{"Subject:", "CN=ctld", "ctld.example.test", "ServerAuth", leaf.SHA256Fingerprint} {
		if !strings.Contains(text, s) {
			t.Errorf("String() lacks %q:\n%s", s, text)
		}
	}

	// DER input works too.
	der, err := CertInfo(leaf.Cert.Raw)
	if err != nil || len(der) != 1 || der[0].SHA256Fingerprint != leaf.SHA256Fingerprint {
		t.Errorf("DER input: %v, %v", der, err)
	}
	for name, in := range map[string][]byte{"key only": keyPEM, "garbage": []byte("hello"), "empty": nil} {
		if _, err := CertInfo(in); err == nil {
			t.Errorf("%s: CertInfo succeeded", name)
		}
	}
}

func TestExpiresWithin(t *testing.T) {
	ca := newTestCA(t, "Expiry CA")
	certPEM, _, err := ca.IssueClient("x", 10*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c := parseCertPEM(t, certPEM)
	tests := []struct {
		d    time.Duration
		want bool
	}{
		{0, false},
		{9 * 24 * time.Hour, false},
		{11 * 24 * time.Hour, true},
	}
	for _, tt := range tests {
		if got := ExpiresWithin(c, tt.d); got != tt.want {
			t.Errorf("ExpiresWithin(10-day cert, %v) = %v, want %v", tt.d, got, tt.want)
		}
	}
}

func TestIdentityString(t *testing.T) {
	tests := []struct {
		id   Identity
		want string
	}{
		{Identity{}, "<no identity>"},
		{Identity{CommonName: "remotectl-admin", Serial: "1"}, "CN=remotectl-admin"},
		{Identity{CommonName: "alice", OrganizationalUnits: []string{"ops"}, DNSNames: []string{"a.example"}, Serial: "1"},
			"CN=alice,OU=ops dns=a.example"},
		// Separators and newlines cannot forge fields or log lines.
		{Identity{CommonName: "eve,OU=admins\nforged", Serial: "1"}, `CN="eve,OU=admins\nforged"`},
	}
	for _, tt := range tests {
		if got := tt.id.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}
