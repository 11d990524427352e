package main

import (
	"fmt"
	"net"

	"github.com/remotectl/remotectl/server"
)

// listenHTTP opens the JSON-over-HTTPS listener when one is configured
// (nil when off), so a busy port fails the start like the gRPC one.
func (d *daemon) listenHTTP() (net.Listener, error) {
	if d.cfg.HTTPListen == "" {
		return nil, nil
	}
	if d.cfg.Insecure && !server.IsLoopbackAddress(d.cfg.HTTPListen) {
		return nil, fmt.Errorf("--insecure only binds to loopback; --http-listen %q is not", d.cfg.HTTPListen)
	}
	lis, err := net.Listen("tcp", d.cfg.HTTPListen)
	if err != nil {
		return nil, fmt.Errorf("listen on %s (--http-listen): %w", d.cfg.HTTPListen, err)
	}
	return lis, nil
}

// serveHTTP serves until the server shuts down.
func (d *daemon) serveHTTP(srv *server.Server, lis net.Listener) {
	scheme := "https"
	if d.cfg.Insecure {
		scheme = "http"
	}
	d.log.Info().Str("http", scheme+"://"+lis.Addr().String()+"/v1/heartbeat").Msg("serving the API as JSON over HTTP (docs/http.md)")
	if err := srv.ServeHTTPS(lis); err != nil {
		d.log.Error().Err(err).Msg("the JSON-over-HTTPS listener stopped")
	}
}
