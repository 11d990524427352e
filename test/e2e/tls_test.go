package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/remotectl/remotectl/client"
	"github.com/remotectl/remotectl/internal/pki"
)

// clientTLS builds a client config trusting the agent's CA with the given
// certificate (nil: no client certificate at all).
func clientTLS(t *testing.T, a *agentUnderTest, certPEM, keyPEM []byte, maxVersion uint16) *tls.Config {
	t.Helper()
	caPEM, err := os.ReadFile(a.certs.CACert)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	c := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12, MaxVersion: maxVersion}
	if certPEM != nil {
		kp, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			t.Fatal(err)
		}
		c.Certificates = []tls.Certificate{kp}
	}
	return c
}

func TestTLSRefusesBadClients(t *testing.T) {
	a := startAgent(t)
	agentCA, err := pki.LoadCA(a.certs.CACert, a.certs.CAKey)
	if err != nil {
		t.Fatal(err)
	}
	otherCA, err := pki.NewCA("some other CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	issue := func(ca *pki.CA, req pki.Request) ([]byte, []byte) {
		c, k, err := ca.Issue(req)
		if err != nil {
			t.Fatal(err)
		}
		return c, k
	}
	clientAuth := []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	goodCert, goodKey := issue(agentCA, pki.Request{CommonName: "alice", ExtKeyUsage: clientAuth})
	foreignCert, foreignKey := issue(otherCA, pki.Request{CommonName: "mallory", ExtKeyUsage: clientAuth, Validity: 30 * time.Minute})
	expiredCert, expiredKey := issue(agentCA, pki.Request{CommonName: "old", ExtKeyUsage: clientAuth,
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
	serverOnlyCert, serverOnlyKey := issue(agentCA, pki.Request{CommonName: "srv", ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})

	cases := []struct {
		name     string
		cfg      *tls.Config
		accepted bool
	}{
		{"valid client certificate", clientTLS(t, a, goodCert, goodKey, 0), true},
		{"no client certificate", clientTLS(t, a, nil, nil, 0), false},
		{"certificate from another CA", clientTLS(t, a, foreignCert, foreignKey, 0), false},
		{"expired certificate", clientTLS(t, a, expiredCert, expiredKey, 0), false},
		{"server-auth-only certificate", clientTLS(t, a, serverOnlyCert, serverOnlyKey, 0), false},
		{"TLS 1.2 client", clientTLS(t, a, goodCert, goodKey, tls.VersionTLS12), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := client.New(a.addr, client.WithTLSConfig(tc.cfg), client.WithCallTimeout(5*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_, err = c.Heartbeat(context.Background())
			if tc.accepted {
				if err != nil {
					t.Fatalf("valid client refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("the agent accepted the call")
			}
			// Refused at the handshake, so no RPC runs and the client sees the
			// connection fail. With TLS 1.3 the client finishes its side of the
			// handshake before the server rejects its certificate, so the text
			// is either the server's alert or a write on the closed socket; the
			// alert reasons themselves are asserted in internal/pki's tests.
			if status.Code(err) != codes.Unavailable || !errors.Is(err, client.ErrUnavailable) {
				t.Fatalf("err = %v (code %v), want UNAVAILABLE from the handshake", err, status.Code(err))
			}
			t.Logf("refused: %v", err)
		})
	}
}

func TestClientRefusesUntrustedAgent(t *testing.T) {
	a := startAgent(t)
	other := startAgent(t) // a second agent with its own, unrelated CA
	c, err := client.New(a.addr, client.WithTLSFiles(other.certs.CACert, other.certs.ClientCert, other.certs.ClientKey),
		client.WithCallTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.Heartbeat(context.Background())
	if err == nil || !strings.Contains(err.Error(), "certificate signed by unknown authority") {
		t.Fatalf("client trusted an agent outside its CA: %v", err)
	}
}
