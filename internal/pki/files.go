package pki

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/remotectl/remotectl/internal/securefs"
)

// File names of the dev PKI inside its directory (STATE_DIR/certs).
const (
	CACertFile     = "ca.crt"
	CAKeyFile      = "ca.key"
	ServerCertFile = "server.crt"
	ServerKeyFile  = "server.key"
	ClientCertFile = "client.crt"
	ClientKeyFile  = "client.key"
)

// DevAdminCommonName is the CN of the client certificate EnsureDevPKI issues.
const DevAdminCommonName = "remotectl-admin"

// DevCAName starts the CN of the CA EnsureDevPKI creates ("remotectl dev CA <host>").
const DevCAName = "remotectl dev CA"

// File modes: private keys are readable by their owner only.
const (
	keyFileMode  fs.FileMode = 0o600
	certFileMode fs.FileMode = 0o644
	dirMode      fs.FileMode = 0o700
)

// Paths locates the PEM files of a PKI.
type Paths struct {
	CACert, CAKey, ServerCert, ServerKey, ClientCert, ClientKey string
}

// DevPaths returns the dev PKI file names inside dir.
func DevPaths(dir string) Paths {
	return Paths{
		CACert:     filepath.Join(dir, CACertFile),
		CAKey:      filepath.Join(dir, CAKeyFile),
		ServerCert: filepath.Join(dir, ServerCertFile),
		ServerKey:  filepath.Join(dir, ServerKeyFile),
		ClientCert: filepath.Join(dir, ClientCertFile),
		ClientKey:  filepath.Join(dir, ClientKeyFile),
	}
}

// EnsureDevPKI is ctld's first-run bootstrap. It makes dir (0700) and
// then, depending on what is already there:
//   - ca.crt, server.crt/key and client.crt/key all present: nothing is
//     written (ca.key is not needed, so an operator may remove it);
//   - nothing present: a new CA, a server certificate for hosts (or
//     DefaultHosts when empty) and a "remotectl-admin" client certificate;
//   - the CA present and a leaf pair missing: that pair is issued from the
//     existing CA, which requires ca.key;
//   - anything else (a certificate without its key, leaves without the
//     CA, ...): an error naming the files, because completing it would
//     mean silently replacing material someone may rely on.
//
// created reports whether any file was written.
func EnsureDevPKI(dir string, hosts []string) (created bool, p Paths, err error) {
	p = DevPaths(dir)
	if dir == "" {
		return false, p, errors.New("pki: dev PKI directory is empty")
	}
	if err := ensureDir(dir); err != nil {
		return false, p, err
	}
	d, err := inspectDevPKI(dir, p)
	if err != nil {
		return false, p, err
	}
	if err := d.checkPairs(); err != nil {
		return false, p, err
	}
	needServer, needClient := !d.have[p.ServerCert], !d.have[p.ClientCert]
	if d.have[p.CACert] && !needServer && !needClient {
		return false, p, nil
	}
	if needServer {
		if len(hosts) == 0 {
			hosts = DefaultHosts()
		}
		// Validate before anything is generated or written.
		if _, _, err := ParseHosts(hosts); err != nil {
			return false, p, err
		}
	}
	ca, files, err := d.ca(needServer, needClient)
	if err != nil {
		return false, p, err
	}
	leaves, err := d.issueLeaves(ca, hosts, needServer, needClient)
	if err != nil {
		return false, p, err
	}
	files = append(files, leaves...)
	for i, f := range files {
		if err := WriteFileAtomic(f.path, f.data, f.mode); err != nil {
			return i > 0, p, err
		}
	}
	return true, p, nil
}

// devPKI is what EnsureDevPKI found in its directory.
type devPKI struct {
	dir  string
	p    Paths
	have map[string]bool // file path -> it exists
}

func inspectDevPKI(dir string, p Paths) (*devPKI, error) {
	d := &devPKI{dir: dir, p: p, have: make(map[string]bool)}
	for _, f := range []string{p.CACert, p.CAKey, p.ServerCert, p.ServerKey, p.ClientCert, p.ClientKey} {
		ok, err := fileExists(f)
		if err != nil {
			return nil, err
		}
		d.have[f] = ok
	}
	return d, nil
}

// checkPairs refuses a leaf certificate without its key or the reverse.
func (d *devPKI) checkPairs() error {
	for _, pr := range [][2]string{{d.p.ServerCert, d.p.ServerKey}, {d.p.ClientCert, d.p.ClientKey}} {
		cert, key := pr[0], pr[1]
		if d.have[cert] != d.have[key] {
			present, missing := cert, key
			if !d.have[cert] {
				present, missing = key, cert
			}
			return fmt.Errorf("pki: dev PKI in %s is incomplete: %s exists but %s is missing; remove %s to have the pair re-issued",
				d.dir, present, missing, present)
		}
	}
	return nil
}

// ca creates the dev CA (returning its files to write) or loads the one
// present, which must have its key since leaves are to be issued.
func (d *devPKI) ca(needServer, needClient bool) (*CA, []pendingFile, error) {
	p := d.p
	switch {
	case !d.have[p.CACert]:
		var present []string
		for _, f := range []string{p.CAKey, p.ServerCert, p.ServerKey, p.ClientCert, p.ClientKey} {
			if d.have[f] {
				present = append(present, f)
			}
		}
		if len(present) > 0 {
			return nil, nil, fmt.Errorf("pki: dev PKI in %s is incomplete: %s is missing but %s exist(s); a new CA would not match them: restore %s or remove them",
				d.dir, p.CACert, strings.Join(present, ", "), p.CACert)
		}
		ca, err := NewCA(DevCAName+" "+hostname(), DefaultCAValidity)
		if err != nil {
			return nil, nil, err
		}
		keyPEM, err := ca.KeyPEM()
		if err != nil {
			return nil, nil, err
		}
		// Key before certificate: an interrupted run then leaves an
		// orphan key (reported above), never a CA certificate nobody
		// can issue from.
		return ca, []pendingFile{{p.CAKey, keyPEM, keyFileMode}, {p.CACert, ca.CertPEM(), certFileMode}}, nil
	case !d.have[p.CAKey]:
		var missing []string
		if needServer {
			missing = append(missing, p.ServerCert)
		}
		if needClient {
			missing = append(missing, p.ClientCert)
		}
		return nil, nil, fmt.Errorf("pki: cannot issue %s: CA key %s is missing; restore it, or issue the certificate elsewhere with ctl certs",
			strings.Join(missing, ", "), p.CAKey)
	default:
		ca, err := LoadCA(p.CACert, p.CAKey)
		return ca, nil, err
	}
}

// issueLeaves issues the missing server and client pairs, key first.
func (d *devPKI) issueLeaves(ca *CA, hosts []string, needServer, needClient bool) ([]pendingFile, error) {
	// An old dev CA may expire before a fresh one-year leaf would: issue
	// up to the CA's expiry instead of failing the daemon's start.
	// The minute of margin absorbs the time that passes until Issue runs.
	validity := min(DefaultLeafValidity, time.Until(ca.Cert.NotAfter)-time.Minute)
	if validity <= 0 {
		return nil, fmt.Errorf("pki: dev CA %s expired at %s; remove the files in %s to create a new dev PKI",
			d.p.CACert, ca.Cert.NotAfter.UTC().Format(time.RFC3339), d.dir)
	}
	var files []pendingFile
	if needServer {
		c, k, err := ca.IssueServer(hostname(), hosts, validity)
		if err != nil {
			return nil, err
		}
		files = append(files, pendingFile{d.p.ServerKey, k, keyFileMode}, pendingFile{d.p.ServerCert, c, certFileMode})
	}
	if needClient {
		c, k, err := ca.IssueClient(DevAdminCommonName, validity)
		if err != nil {
			return nil, err
		}
		files = append(files, pendingFile{d.p.ClientKey, k, keyFileMode}, pendingFile{d.p.ClientCert, c, certFileMode})
	}
	return files, nil
}

type pendingFile struct {
	path string
	data []byte
	mode fs.FileMode
}

// WriteFileAtomic writes data to path through a temporary file in the same
// directory followed by a rename, so readers see either the old or the new
// content, never a torn file. The temporary file gets mode before any data
// is written, so a key is never briefly world-readable.
func WriteFileAtomic(path string, data []byte, mode os.FileMode) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fileError("create temporary file for", path, err)
	}
	defer func() {
		if err != nil {
			// Best effort: the original error is the one worth reporting.
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	// Windows only maps the read-only bit; a failure there is not fatal.
	if cerr := tmp.Chmod(mode); cerr != nil && runtime.GOOS != "windows" {
		return fileError("chmod temporary file for", path, cerr)
	}
	if _, err = tmp.Write(data); err != nil {
		return fileError("write", path, err)
	}
	if err = tmp.Sync(); err != nil {
		return fileError("sync", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fileError("close", path, err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fileError("rename temporary file to", path, err)
	}
	syncDir(dir)
	return nil
}

// syncDir makes a rename durable on Unix; Windows cannot open directories
// for syncing and does not need it. It is best effort: the file content is
// already synced, and some file systems refuse to sync directories.
func syncDir(dir string) {
	if runtime.GOOS == "windows" {
		return
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}

// ensureDir creates dir private to the agent (0700; on Windows SYSTEM and
// Administrators only) if it does not exist; an existing directory that
// another user owns or may write is refused, since whoever controls it
// controls the agent's CA and keys.
func ensureDir(dir string) error {
	if err := securefs.EnsureDir(dir); err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	return nil
}

func fileExists(path string) (bool, error) {
	_, err := os.Stat(path)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	default:
		return false, fileError("stat", path, err)
	}
}

// hostname returns the machine's host name, or "localhost" if unknown.
func hostname() string {
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "localhost"
}
