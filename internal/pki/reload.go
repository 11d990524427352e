package pki

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/remotectl/remotectl/internal/securefs"
)

// ServerFiles names everything the server's TLS is built from. CRL and
// RevokedSerials are optional.
type ServerFiles struct {
	CA, Cert, Key string
	// CRL is a PEM or DER certificate revocation list signed by a CA of
	// the bundle.
	CRL string
	// RevokedSerials are certificate serial numbers in hex ("0a1b..",
	// "0x0A:1B", any case) refused at handshake.
	RevokedSerials []string
}

// trust is the client-verification material swapped as a whole on reload.
type trust struct {
	pool *x509.CertPool
	// revoked holds serials in lower-case hex without leading zeros:
	// bare for revoked_serials (any issuer), prefixed "issuer DN|" for CRL
	// entries, which revoke only certificates of the CRL's issuer (serials
	// are unique per CA, not across the bundle).
	revoked map[string]bool
	// cas and crlNextUpdate feed Warnings.
	cas           []*x509.Certificate
	crl           string
	crlNextUpdate time.Time
}

func revokedKey(issuer string, serial *big.Int) string { return issuer + "|" + serial.Text(16) }

// ServerTLS is a server TLS configuration whose certificate, CA bundle and
// revocation list can be reloaded while serving: new handshakes use the
// new material, established connections are untouched.
type ServerTLS struct {
	mu     sync.Mutex // serialises Reload
	files  ServerFiles
	holder *CertHolder
	trust  atomic.Pointer[trust]
	cfg    *tls.Config
	stamps map[string]fileStamp
}

// NewServerTLS loads f; any error names the file at fault.
func NewServerTLS(f ServerFiles) (*ServerTLS, error) {
	cert, tr, err := loadServerMaterial(f)
	if err != nil {
		return nil, err
	}
	s := &ServerTLS{files: f, holder: NewCertHolder(cert), stamps: stampFiles(f)}
	s.trust.Store(tr)
	s.cfg = &tls.Config{
		MinVersion:             tls.VersionTLS13,
		ClientAuth:             tls.RequireAndVerifyClientCert,
		ClientCAs:              tr.pool,
		GetCertificate:         s.holder.GetCertificate,
		NextProtos:             slices.Clone(alpnH2),
		SessionTicketsDisabled: true,
		VerifyConnection:       s.verifyConnection,
	}
	// Each handshake gets the current CA pool; the rest is shared.
	s.cfg.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
		c := s.cfg.Clone()
		c.GetConfigForClient = nil
		c.ClientCAs = s.trust.Load().pool
		return c, nil
	}
	return s, nil
}

// Config is the tls.Config to serve with.
func (s *ServerTLS) Config() *tls.Config { return s.cfg }

// Certificate is the leaf currently served.
func (s *ServerTLS) Certificate() *x509.Certificate {
	if c := s.holder.Certificate(); c != nil {
		return c.Leaf
	}
	return nil
}

// Reload re-reads every file (and takes new revoked serials when f is
// given). On any error nothing changes and the old material keeps serving.
func (s *ServerTLS) Reload(f ...ServerFiles) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	files := s.files
	if len(f) > 0 {
		files = f[0]
	}
	cert, tr, err := loadServerMaterial(files)
	if err != nil {
		return err
	}
	s.holder.Set(cert)
	s.trust.Store(tr)
	s.files, s.stamps = files, stampFiles(files)
	return nil
}

// Changed reports whether any of the files changed (size, mtime or
// presence) since the last load.
func (s *ServerTLS) Changed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := stampFiles(s.files)
	for k, v := range now {
		if s.stamps[k] != v {
			return true
		}
	}
	return false
}

// Watch polls the files every interval and reloads on change until ctx
// ends; report gets the outcome of every reload attempt. Polling (rather
// than inotify) also catches the rename-into-place that cert managers use,
// and works on every platform.
func (s *ServerTLS) Watch(ctx context.Context, interval time.Duration, report func(error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if s.Changed() {
				report(s.Reload())
			}
		}
	}
}

// IsRevoked reports whether serial (hex) is revoked for every issuer
// (revoked_serials) in the current material.
func (s *ServerTLS) IsRevoked(serial *big.Int) bool {
	return serial != nil && s.trust.Load().revoked[serial.Text(16)]
}

// IsCertRevoked reports whether c is revoked: by serial alone, or by a CRL
// of its issuer.
func (s *ServerTLS) IsCertRevoked(c *x509.Certificate) bool {
	return c.SerialNumber != nil && (s.IsRevoked(c.SerialNumber) ||
		s.trust.Load().revoked[revokedKey(c.Issuer.String(), c.SerialNumber)])
}

// ErrRevoked is returned by the handshake for a revoked certificate.
var ErrRevoked = errors.New("pki: certificate revoked")

// verifyConnection runs after chain verification: refuse a revoked leaf or
// intermediate.
func (s *ServerTLS) verifyConnection(cs tls.ConnectionState) error {
	for _, chain := range cs.VerifiedChains {
		for _, c := range chain[:max(len(chain)-1, 0)] {
			if s.IsCertRevoked(c) {
				return fmt.Errorf("%w: %q serial %s", ErrRevoked, c.Subject.String(), c.SerialNumber.Text(16))
			}
		}
	}
	return nil
}

func loadServerMaterial(f ServerFiles) (*tls.Certificate, *trust, error) {
	cas, err := loadCACerts(f.CA)
	if err != nil {
		return nil, nil, err
	}
	cert, err := loadKeyPair("server", f.Cert, f.Key, x509.ExtKeyUsageServerAuth)
	if err != nil {
		return nil, nil, err
	}
	if err := securefs.CheckKey(f.Key); err != nil {
		return nil, nil, fmt.Errorf("pki: server key: %w", err)
	}
	tr := &trust{pool: poolOf(cas), revoked: map[string]bool{}, cas: cas, crl: f.CRL}
	for _, s := range f.RevokedSerials {
		n, err := ParseSerial(s)
		if err != nil {
			return nil, nil, err
		}
		tr.revoked[n.Text(16)] = true
	}
	if f.CRL != "" {
		if tr.crlNextUpdate, err = loadCRL(f.CRL, cas, tr.revoked); err != nil {
			return nil, nil, err
		}
	}
	return cert, tr, nil
}

// ParseSerial parses a hex serial number, tolerating "0x", colons and case.
func ParseSerial(s string) (*big.Int, error) {
	h := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), ":", ""))
	h = strings.TrimPrefix(h, "0x")
	n, ok := new(big.Int).SetString(h, 16)
	if !ok || h == "" || n.Sign() < 0 {
		return nil, fmt.Errorf("pki: revoked serial %q is not a hex number", s)
	}
	return n, nil
}

// loadCRL adds the serials of a CRL signed by one of cas to revoked. A CRL
// no CA of the bundle signed is an error, not silently ignored.
func loadCRL(path string, cas []*x509.Certificate, revoked map[string]bool) (nextUpdate time.Time, err error) {
	data, err := readFile("CRL", path)
	if err != nil {
		return nextUpdate, err
	}
	der := data
	if b, _ := pem.Decode(data); b != nil {
		if b.Type != "X509 CRL" {
			return nextUpdate, fmt.Errorf("pki: CRL %s: PEM block %q, want X509 CRL", path, b.Type)
		}
		der = b.Bytes
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		return nextUpdate, fmt.Errorf("pki: CRL %s: %w", path, err)
	}
	signed := slices.ContainsFunc(cas, func(ca *x509.Certificate) bool { return crl.CheckSignatureFrom(ca) == nil })
	if !signed {
		return nextUpdate, fmt.Errorf("pki: CRL %s (issuer %q) is not signed by a CA of the bundle", path, crl.Issuer)
	}
	for _, e := range crl.RevokedCertificateEntries {
		revoked[revokedKey(crl.Issuer.String(), e.SerialNumber)] = true
	}
	return crl.NextUpdate, nil
}

type fileStamp struct {
	size    int64
	modTime time.Time
	exists  bool
}

func stampFiles(f ServerFiles) map[string]fileStamp {
	m := map[string]fileStamp{}
	for _, p := range []string{f.CA, f.Cert, f.Key, f.CRL} {
		if p == "" {
			continue
		}
		if fi, err := os.Stat(p); err == nil {
			m[p] = fileStamp{size: fi.Size(), modTime: fi.ModTime(), exists: true}
		} else {
			m[p] = fileStamp{}
		}
	}
	return m
}

// Warnings lists what in the current material needs an operator soon: a
// CRL past its nextUpdate (the issuer may have revoked more since) and a CA
// of the bundle that expired or expires within soon.
func (s *ServerTLS) Warnings(now time.Time, soon time.Duration) []string {
	tr := s.trust.Load()
	var w []string
	if !tr.crlNextUpdate.IsZero() && now.After(tr.crlNextUpdate) {
		w = append(w, fmt.Sprintf("CRL %s is stale: its nextUpdate %s has passed; fetch a fresh one from the CA",
			tr.crl, tr.crlNextUpdate.UTC().Format(time.RFC3339)))
	}
	for _, ca := range tr.cas {
		switch {
		case now.After(ca.NotAfter):
			w = append(w, fmt.Sprintf("CA %q of the bundle expired at %s: certificates it issued no longer verify",
				ca.Subject.String(), ca.NotAfter.UTC().Format(time.RFC3339)))
		case ca.NotAfter.Sub(now) < soon:
			w = append(w, fmt.Sprintf("CA %q of the bundle expires at %s", ca.Subject.String(), ca.NotAfter.UTC().Format(time.RFC3339)))
		}
	}
	return w
}
