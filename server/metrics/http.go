package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Endpoint is the plain-HTTP /metrics listener. It is separate from the gRPC
// port (which requires a client certificate) so Prometheus can scrape it;
// bind it to loopback or a management network.
type Endpoint struct {
	srv *http.Server
	lis net.Listener
}

// Serve starts serving /metrics on addr (HOST:PORT) in the background.
func (m *Metrics) Serve(addr string) (*Endpoint, error) {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics listen on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}))
	e := &Endpoint{lis: lis, srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}}
	go func() { _ = e.srv.Serve(lis) }()
	return e, nil
}

// Addr is the address actually listened on (useful with port 0).
func (e *Endpoint) Addr() net.Addr { return e.lis.Addr() }

// Close stops the listener, letting a scrape in progress finish for up to ctx.
func (e *Endpoint) Close(ctx context.Context) error {
	if err := e.srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("metrics shutdown: %w", err)
	}
	return nil
}
