package pki

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// tlsFixture is a server and a set of clients, good and bad, on disk.
type tlsFixture struct {
	dir                string
	ca                 *CA
	caFile             string
	srvCert, srvKey    string
	cliCert, cliKey    string
	foreign, expired   [2][]byte // cert, key PEM
	serverOnly, badSAN [2][]byte
}

func newTLSFixture(t *testing.T) *tlsFixture {
	t.Helper()
	f := &tlsFixture{dir: t.TempDir(), ca: newTestCA(t, "test CA")}
	f.caFile, _ = writeCA(t, f.dir, "ca", f.ca)
	must := func(c, k []byte, err error) [2][]byte {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return [2][]byte{c, k}
	}
	srv := must(f.ca.IssueServer("", []string{"localhost", "127.0.0.1"}, time.Hour))
	f.srvCert, f.srvKey = writePair(t, f.dir, "server", srv[0], srv[1])
	cli := must(f.ca.IssueClient("alice", time.Hour, WithOU("operators"), WithURI("spiffe://remotectl.test/ops/alice")))
	f.cliCert, f.cliKey = writePair(t, f.dir, "client", cli[0], cli[1])

	other := newTestCA(t, "test CA") // same name, different key
	f.foreign = must(other.IssueClient("alice", time.Hour, WithOU("operators")))
	now := time.Now()
	f.expired = must(f.ca.Issue(Request{
		CommonName:  "alice",
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		NotBefore:   now.Add(-48 * time.Hour),
		NotAfter:    now.Add(-24 * time.Hour),
	}))
	f.serverOnly = must(f.ca.IssueServer("alice", []string{"alice.test"}, time.Hour))
	f.badSAN = must(f.ca.IssueServer("", []string{"other.test", "10.9.9.9"}, time.Hour))
	return f
}

// writeCRL writes the fixture CA's CRL revoking serials (valid an hour)
// next to the other files and returns its path.
func (f *tlsFixture) writeCRL(t *testing.T, serials ...*big.Int) string {
	t.Helper()
	crl, err := f.ca.RevocationList(serials, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	crlFile := filepath.Join(f.dir, "ca.crl")
	if err := os.WriteFile(crlFile, crl, 0o644); err != nil {
		t.Fatal(err)
	}
	return crlFile
}

// clientPresenting is a valid client config that presents certificate
// c instead, so the server (not the client's own checks) must refuse it.
func (f *tlsFixture) clientPresenting(t *testing.T, c [2][]byte) *tls.Config {
	t.Helper()
	cfg, err := ClientTLSConfig(f.caFile, f.cliCert, f.cliKey, "localhost")
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(c[0], c[1])
	if err != nil {
		t.Fatal(err)
	}
	cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &pair, nil }
	return cfg
}

func TestServerAndClientTLSConfigFields(t *testing.T) {
	f := newTLSFixture(t)
	s, err := ServerTLSConfig(f.caFile, f.srvCert, f.srvKey)
	if err != nil {
		t.Fatal(err)
	}
	if s.MinVersion != tls.VersionTLS13 || s.ClientAuth != tls.RequireAndVerifyClientCert ||
		s.ClientCAs == nil || s.GetCertificate == nil || !slices.Equal(s.NextProtos, []string{"h2"}) {
		t.Errorf("server config: MinVersion=%x ClientAuth=%v ClientCAs=%v GetCertificate set=%v NextProtos=%v",
			s.MinVersion, s.ClientAuth, s.ClientCAs != nil, s.GetCertificate != nil, s.NextProtos)
	}
	got, err := s.GetCertificate(nil)
	if err != nil || got.Leaf == nil || !slices.Contains(got.Leaf.DNSNames, "localhost") {
		t.Errorf("GetCertificate = %v, %v; want the localhost server certificate", got, err)
	}
	c, err := ClientTLSConfig(f.caFile, f.cliCert, f.cliKey, "")
	if err != nil {
		t.Fatal(err)
	}
	if c.MinVersion != tls.VersionTLS13 || c.RootCAs == nil || c.GetClientCertificate == nil || c.ServerName != "" {
		t.Errorf("client config: MinVersion=%x RootCAs set=%v GetClientCertificate set=%v ServerName=%q",
			c.MinVersion, c.RootCAs != nil, c.GetClientCertificate != nil, c.ServerName)
	}
}

func TestHandshake(t *testing.T) {
	f := newTLSFixture(t)
	serverCfg, err := ServerTLSConfig(f.caFile, f.srvCert, f.srvKey)
	if err != nil {
		t.Fatal(err)
	}
	validClient := func(serverName string) *tls.Config {
		cfg, err := ClientTLSConfig(f.caFile, f.cliCert, f.cliKey, serverName)
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	noCert := validClient("localhost")
	noCert.GetClientCertificate = nil // present nothing
	tls12 := validClient("localhost")
	tls12.MinVersion, tls12.MaxVersion = tls.VersionTLS12, tls.VersionTLS12
	badSANServer, err := ServerTLSConfig(f.caFile, writeTemp(t, f.badSAN[0]), writeTemp(t, f.badSAN[1]))
	if err != nil {
		t.Fatal(err)
	}

	var (
		unknownCA x509.UnknownAuthorityError
		invalid   x509.CertificateInvalidError
		hostErr   x509.HostnameError
	)
	tests := []struct {
		name   string
		server *tls.Config
		client *tls.Config
		// checkServer/checkClient judge the respective handshake error.
		checkServer func(error) bool
		checkClient func(error) bool
	}{
		{"valid client by DNS name", serverCfg, validClient("localhost"), isNil, isNil},
		{"valid client by IP", serverCfg, validClient("127.0.0.1"), isNil, isNil},
		{"no client certificate", serverCfg, noCert,
			func(err error) bool {
				return err != nil && strings.Contains(err.Error(), "didn't provide a certificate")
			}, notNil},
		{"client certificate from another CA", serverCfg, f.clientPresenting(t, f.foreign),
			func(err error) bool { return errors.As(err, &unknownCA) }, notNil},
		{"expired client certificate", serverCfg, f.clientPresenting(t, f.expired),
			func(err error) bool { return errors.As(err, &invalid) && invalid.Reason == x509.Expired }, notNil},
		{"client certificate without ClientAuth usage", serverCfg, f.clientPresenting(t, f.serverOnly),
			func(err error) bool { return errors.As(err, &invalid) && invalid.Reason == x509.IncompatibleUsage }, notNil},
		{"TLS 1.2 only client", serverCfg, tls12,
			func(err error) bool { return err != nil && strings.Contains(err.Error(), "unsupported versions") }, notNil},
		{"server certificate without the dialed name", badSANServer, validClient("localhost"),
			notNil, func(err error) bool { return errors.As(err, &hostErr) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := handshake(t, tt.server, tt.client)
			if !tt.checkServer(res.serverErr) {
				t.Errorf("server handshake error = %v", res.serverErr)
			}
			if !tt.checkClient(res.clientErr) {
				t.Errorf("client handshake error = %v", res.clientErr)
			}
			if res.serverErr != nil {
				if id := PeerIdentity(res.server); !id.IsZero() {
					t.Errorf("refused connection has identity %v", id)
				}
				return
			}
			if res.server.Version != tls.VersionTLS13 || res.server.NegotiatedProtocol != "h2" {
				t.Errorf("version %x, ALPN %q; want TLS 1.3 and h2", res.server.Version, res.server.NegotiatedProtocol)
			}
			id := PeerIdentity(res.server)
			if id.CommonName != "alice" || !slices.Equal(id.OrganizationalUnits, []string{"operators"}) ||
				!slices.Equal(id.URIs, []string{"spiffe://remotectl.test/ops/alice"}) {
				t.Errorf("PeerIdentity = %+v", id)
			}
			if id.Subject != "CN=alice,OU=operators" {
				t.Errorf("Subject = %q", id.Subject)
			}
			if want := "CN=alice,OU=operators uri=spiffe://remotectl.test/ops/alice"; id.String() != want {
				t.Errorf("String() = %q, want %q", id.String(), want)
			}
			leaf := res.server.VerifiedChains[0][0]
			if id.Serial != leaf.SerialNumber.Text(16) || id.Serial == "" {
				t.Errorf("Serial = %q, leaf serial %x", id.Serial, leaf.SerialNumber)
			}
		})
	}
}

func isNil(err error) bool  { return err == nil }
func notNil(err error) bool { return err != nil }

func writeTemp(t *testing.T, data []byte) string {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "pem")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	return f.Name()
}

func TestTLSConfigErrors(t *testing.T) {
	f := newTLSFixture(t)
	missing := filepath.Join(f.dir, "nope", "ca.crt")
	garbage := writeTemp(t, []byte("not a certificate\n"))
	leafAsCA := f.srvCert
	otherKey := writeTemp(t, f.foreign[1])
	expiredCert, expiredKey := writeTemp(t, f.expired[0]), writeTemp(t, f.expired[1])
	srvOnlyCert, srvOnlyKey := writeTemp(t, f.serverOnly[0]), writeTemp(t, f.serverOnly[1])

	server := func(ca, c, k string) error { _, err := ServerTLSConfig(ca, c, k); return err }
	client := func(ca, c, k string) error { _, err := ClientTLSConfig(ca, c, k, "localhost"); return err }
	tests := []struct {
		name     string
		err      error
		contains []string
		notExist bool
	}{
		{"server: missing CA bundle", server(missing, f.srvCert, f.srvKey),
			[]string{"read CA bundle " + missing + ": "}, true},
		{"server: CA bundle without certificates", server(garbage, f.srvCert, f.srvKey),
			[]string{"CA bundle " + garbage, "no PEM CERTIFICATE"}, false},
		{"server: leaf given as CA bundle", server(leafAsCA, f.srvCert, f.srvKey),
			[]string{"CA bundle " + leafAsCA, "no CA certificate"}, false},
		{"server: missing key", server(f.caFile, f.srvCert, missing),
			[]string{"read server key " + missing}, true},
		{"server: key of another certificate", server(f.caFile, f.srvCert, otherKey),
			[]string{f.srvCert, otherKey}, false},
		{"server: client certificate as server certificate", server(f.caFile, f.cliCert, f.cliKey),
			[]string{f.cliCert, "not valid for ServerAuth"}, false},
		{"client: missing certificate", client(f.caFile, missing, f.cliKey),
			[]string{"read client certificate " + missing}, true},
		{"client: expired certificate", client(f.caFile, expiredCert, expiredKey),
			[]string{expiredCert, "expired at"}, false},
		{"client: server-only certificate", client(f.caFile, srvOnlyCert, srvOnlyKey),
			[]string{srvOnlyCert, "not valid for ClientAuth"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.err == nil {
				t.Fatal("no error")
			}
			for _, s := range tt.contains {
				if !strings.Contains(tt.err.Error(), s) {
					t.Errorf("error %q does not contain %q", tt.err, s)
				}
			}
			if got := errors.Is(tt.err, fs.ErrNotExist); got != tt.notExist {
				t.Errorf("errors.Is(%v, fs.ErrNotExist) = %v, want %v", tt.err, got, tt.notExist)
			}
		})
	}
}

func TestCertHolderSwap(t *testing.T) {
	f := newTLSFixture(t)
	a, err := tls.LoadX509KeyPair(f.srvCert, f.srvKey)
	if err != nil {
		t.Fatal(err)
	}
	b, err := tls.X509KeyPair(f.badSAN[0], f.badSAN[1])
	if err != nil {
		t.Fatal(err)
	}
	h := NewCertHolder(&a)
	if got, _ := h.GetCertificate(nil); got != &a {
		t.Fatal("holder does not serve the initial certificate")
	}
	h.Set(&b)
	if got, _ := h.GetClientCertificate(nil); got != &b {
		t.Fatal("holder does not serve the replacement certificate")
	}
	h.Set(nil)
	if _, err := h.GetCertificate(nil); err == nil {
		t.Fatal("empty holder returned no error")
	}
}
