package client

import (
	"context"
	"errors"
	"io"

	"github.com/remotectl/remotectl/internal/errdefs"
	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
)

// ServiceWatch is an open WatchServices stream.
type ServiceWatch struct {
	events chan *pb.ServiceEvent
	err    error
}

// Events delivers the stream's events in order. It is closed when the
// stream ends: on context cancel, on a server error, or on disconnect.
func (w *ServiceWatch) Events() <-chan *pb.ServiceEvent { return w.events }

// Err tells why the stream ended; read it after Events is closed. It is nil
// when the caller's context ended the stream. ErrResourceExhausted means the
// agent cut the watch off because it was read too slowly.
func (w *ServiceWatch) Err() error { return w.err }

// WatchServices opens a service state-change stream; a nil request watches
// every service. Request errors (bad glob, unreachable service manager) are
// returned here, not on the channel: the server confirms the subscription
// with response headers before any event.
func (c *Client) WatchServices(ctx context.Context, req *pb.WatchServicesRequest) (*ServiceWatch, error) {
	if req == nil {
		req = &pb.WatchServicesRequest{}
	}
	stream, err := c.svcs.WatchServices(ctx, req)
	if err != nil {
		return nil, errdefs.FromGRPC(err)
	}
	if _, err := accept(stream); err != nil {
		return nil, err
	}
	w := &ServiceWatch{events: make(chan *pb.ServiceEvent, 64)}
	go func() {
		defer close(w.events)
		err := pump(ctx, stream, (*pb.WatchServicesResponse).GetEvent, w.events, func(*pb.ServiceEvent) {})
		if ctx.Err() == nil && !errors.Is(err, io.EOF) {
			w.err = err
		}
	}()
	return w, nil
}
