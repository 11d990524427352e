package main

import (
	"context"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/remotectl/remotectl/internal/pki"
	"github.com/remotectl/remotectl/server/audit"
	"github.com/remotectl/remotectl/server/authz"
)

// certExpiryWarning is how close to expiry the agent's own certificate
// must be for ctld to warn (at start and on every reload).
const certExpiryWarning = 14 * 24 * time.Hour

// authzAndAudit builds the policy and opens the audit sink. The sink opens
// at start, so an unwritable audit path stops ctld instead of every later
// change failing.
func (d *daemon) authzAndAudit() (*authz.Policy, *audit.Sink, error) {
	policy, err := authz.New(d.cfg.Authz)
	if err != nil {
		return nil, nil, err
	}
	path := d.cfg.Audit.File
	if path == "" {
		path = filepath.Join(d.cfg.StateDir, "audit.log")
	}
	sink, err := audit.Open(path)
	if err != nil {
		return nil, nil, err
	}
	d.audit = sink
	if d.cfg.Authz.Bindings == nil {
		d.log.Info().Str("audit", sink.Name()).Msg("authorization: default policy, only CN " + pki.DevAdminCommonName + " is admin; configure authz.bindings for other identities")
	} else {
		d.log.Info().Str("audit", sink.Name()).Int("bindings", len(d.cfg.Authz.Bindings)).Msg("authorization policy loaded")
	}
	return policy, sink, nil
}

// startReloading polls the TLS files and reloads on change, and on SIGHUP
// reloads both the TLS material and the authorization policy. Established
// connections keep their material; new handshakes use the new one.
func (d *daemon) startReloading(ctx context.Context) {
	if d.serverTLS == nil {
		return
	}
	d.warnCertExpiry()
	go d.serverTLS.Watch(ctx, d.cfg.TLS.ReloadInterval, func(err error) { d.reported(err, "file change") })
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		defer signal.Stop(hup)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				d.reloadOnSignal()
			}
		}
	}()
}

// reloadOnSignal re-reads the configuration and the TLS material and
// applies both or neither: a TLS part that fails to load must not let the
// new authorization part in (and the reverse). Then open connections are
// verified again and streams re-authorized, so a revocation or a removed
// binding reaches live connections too.
func (d *daemon) reloadOnSignal() {
	files := pki.ServerFiles{CA: d.tlsFiles.CA, Cert: d.tlsFiles.Cert, Key: d.tlsFiles.Key,
		CRL: d.cfg.TLS.CRL, RevokedSerials: d.cfg.TLS.RevokedSerials}
	var policy *authz.Policy
	var cfg Config
	if d.load != nil {
		var err error
		if cfg, err = d.load(); err != nil {
			d.log.Error().Err(err).Msg("SIGHUP: configuration not reloaded; keeping the current one")
			return
		}
		if policy, err = authz.New(cfg.Authz); err != nil {
			d.log.Error().Err(err).Msg("SIGHUP: authorization config invalid; keeping the current configuration")
			return
		}
		files.CRL, files.RevokedSerials = cfg.TLS.CRL, cfg.TLS.RevokedSerials
	}
	if err := d.serverTLS.Reload(files); err != nil {
		d.reported(err, "SIGHUP")
		if policy != nil {
			d.log.Error().Msg("SIGHUP: authorization policy not applied either, since the TLS part failed (a reload applies all or nothing)")
		}
		return
	}
	if policy != nil {
		ended := d.srv.SetPolicy(policy)
		d.cfg.Authz, d.cfg.TLS.CRL, d.cfg.TLS.RevokedSerials = cfg.Authz, cfg.TLS.CRL, cfg.TLS.RevokedSerials
		d.log.Info().Int("streams_ended", ended).Msg("SIGHUP: authorization policy reloaded")
	}
	d.reported(nil, "SIGHUP")
	if d.audit != nil {
		if err := d.audit.Reopen(); err != nil {
			d.log.Error().Err(err).Msg("SIGHUP: audit log not reopened; still writing to the old file")
		}
	}
}

func (d *daemon) reported(err error, why string) {
	if err != nil {
		d.log.Error().Err(err).Str("trigger", why).Msg("TLS material not reloaded; still serving the previous certificate, CA bundle and revocation list")
		return
	}
	c := d.serverTLS.Certificate()
	d.log.Info().Str("trigger", why).Str("serial", c.SerialNumber.Text(16)).
		Time("not_after", c.NotAfter).Msg("TLS material reloaded; new connections use it")
	d.warnCertExpiry()
	if d.srv != nil {
		if cut := d.srv.Revalidate(d.serverTLS.VerifyPeer); len(cut) > 0 {
			d.log.Warn().Strs("identities", cut).Msg("closed connections whose client certificate no longer verifies (revoked, CA removed or expired)")
		}
	}
}

func (d *daemon) warnCertExpiry() {
	for _, w := range d.serverTLS.Warnings(time.Now(), certExpiryWarning) {
		d.log.Warn().Msg(w)
	}
	c := d.serverTLS.Certificate()
	if c == nil || !pki.ExpiresWithin(c, certExpiryWarning) {
		return
	}
	d.log.Warn().Time("not_after", c.NotAfter).Str("subject", c.Subject.String()).
		Dur("left", time.Until(c.NotAfter).Round(time.Minute)).
		Msg("the agent's TLS server certificate expires within 14 days; renew it (ctld reloads the files on change)")
}
