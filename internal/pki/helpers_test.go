package pki

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func newTestCA(t *testing.T, cn string) *CA {
	t.Helper()
	ca, err := NewCA(cn, 0)
	if err != nil {
		t.Fatalf("NewCA(%q): %v", cn, err)
	}
	return ca
}

// writePair writes certPEM/keyPEM as dir/name.crt and dir/name.key.
func writePair(t *testing.T, dir, name string, certPEM, keyPEM []byte) (certFile, keyFile string) {
	t.Helper()
	certFile = filepath.Join(dir, name+".crt")
	keyFile = filepath.Join(dir, name+".key")
	if err := os.WriteFile(certFile, certPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func writeCA(t *testing.T, dir, name string, ca *CA) (certFile, keyFile string) {
	t.Helper()
	keyPEM, err := ca.KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	return writePair(t, dir, name, ca.CertPEM(), keyPEM)
}

func parseCertPEM(t *testing.T, data []byte) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("no CERTIFICATE PEM block in %q", data)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func readFileT(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// verifyLeaf verifies certPEM against ca for the given usage.
func verifyLeaf(t *testing.T, ca *CA, certPEM []byte, usage x509.ExtKeyUsage) *x509.Certificate {
	t.Helper()
	c := parseCertPEM(t, certPEM)
	if _, err := c.Verify(x509.VerifyOptions{Roots: ca.Pool(), KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
		t.Fatalf("verify %s against %s: %v", c.Subject, ca.Cert.Subject, err)
	}
	return c
}

type handshakeResult struct {
	server    tls.ConnectionState // valid when serverErr == nil
	client    tls.ConnectionState
	serverErr error
	clientErr error
}

// handshake runs one TLS connection over a 127.0.0.1 listener. In TLS 1.3
// the client's Handshake returns before the server has judged the client
// certificate, so the server confirms acceptance by writing one byte and
// the client only counts as connected once it has read it.
func handshake(t *testing.T, serverCfg, clientCfg *tls.Config) handshakeResult {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type srvResult struct {
		state tls.ConnectionState
		err   error
	}
	done := make(chan srvResult, 1)
	go func() {
		raw, err := ln.Accept()
		if err != nil {
			done <- srvResult{err: err}
			return
		}
		defer raw.Close()
		raw.SetDeadline(time.Now().Add(10 * time.Second))
		conn := tls.Server(raw, serverCfg)
		if err := conn.Handshake(); err != nil {
			done <- srvResult{err: err}
			return
		}
		if _, err := conn.Write([]byte{1}); err != nil {
			done <- srvResult{err: err}
			return
		}
		io.Copy(io.Discard, conn) // wait for the client to hang up
		done <- srvResult{state: conn.ConnectionState()}
	}()

	var res handshakeResult
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	raw.SetDeadline(time.Now().Add(10 * time.Second))
	conn := tls.Client(raw, clientCfg)
	res.clientErr = conn.Handshake()
	if res.clientErr == nil {
		var b [1]byte
		_, res.clientErr = io.ReadFull(conn, b[:])
		res.client = conn.ConnectionState()
	}
	conn.Close()
	sr := <-done
	res.server, res.serverErr = sr.state, sr.err
	return res
}
