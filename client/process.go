package client

import (
	"context"
	"errors"
	"io"

	"github.com/remotectl/remotectl/internal/errdefs"
	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
)

// ListProcesses lists the agent's processes; a nil request lists all with all fields.
func (c *Client) ListProcesses(ctx context.Context, req *pb.ListProcessesRequest) (*pb.ListProcessesResponse, error) {
	if req == nil {
		req = &pb.ListProcessesRequest{}
	}
	ctx, cancel := c.withTimeout(ctx, 0)
	defer cancel()
	resp, err := c.procs.ListProcesses(ctx, req)
	return resp, errdefs.FromGRPC(err)
}

// ProcessWatch is an open WatchProcesses stream.
type ProcessWatch struct {
	events chan *pb.ProcessEvent
	err    error
}

// Events delivers the stream's events in order. It is closed when the
// stream ends: on context cancel, on a server error, or on disconnect.
func (w *ProcessWatch) Events() <-chan *pb.ProcessEvent { return w.events }

// Err tells why the stream ended; read it after Events is closed. It is nil
// when the caller's context ended the stream.
func (w *ProcessWatch) Err() error { return w.err }

// WatchProcesses opens a process event stream. Request errors (bad filter)
// are returned here, not on the channel: the server confirms the
// subscription with response headers before any event.
func (c *Client) WatchProcesses(ctx context.Context, req *pb.WatchProcessesRequest) (*ProcessWatch, error) {
	if req == nil {
		req = &pb.WatchProcessesRequest{}
	}
	stream, err := c.procs.WatchProcesses(ctx, req)
	if err != nil {
		return nil, errdefs.FromGRPC(err)
	}
	md, err := stream.Header()
	if err != nil {
		return nil, errdefs.FromGRPC(err)
	}
	if md == nil {
		// Trailers-only response: the server refused the stream before
		// accepting it; Recv carries the status.
		_, err := stream.Recv()
		if err == nil || errors.Is(err, io.EOF) {
			err = errors.New("agent closed the watch without accepting it")
		}
		return nil, errdefs.FromGRPC(err)
	}
	w := &ProcessWatch{events: make(chan *pb.ProcessEvent, 64)}
	go func() {
		defer close(w.events)
		for {
			resp, err := stream.Recv()
			if err != nil {
				if !errors.Is(err, io.EOF) && ctx.Err() == nil {
					w.err = errdefs.FromGRPC(err)
				}
				return
			}
			select {
			case w.events <- resp.GetEvent():
			case <-ctx.Done():
				return
			}
		}
	}()
	return w, nil
}
