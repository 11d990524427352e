package client

import (
	"context"
	"errors"
	"io"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/remotectl/remotectl/internal/errdefs/errgrpc"
)

// accept waits until the agent confirms a server stream with its response
// headers and returns them. A trailers-only response (headers nil, no
// error) means the agent refused the request before accepting it; Recv
// carries the status, so request errors reach the caller synchronously.
func accept[R any](stream grpc.ServerStreamingClient[R]) (metadata.MD, error) {
	md, err := stream.Header()
	if err != nil {
		return nil, errgrpc.FromGRPC(err)
	}
	if md == nil {
		_, err := stream.Recv()
		if err == nil || errors.Is(err, io.EOF) {
			err = errors.New("agent closed the watch without accepting it")
		}
		return nil, errgrpc.FromGRPC(err)
	}
	return md, nil
}

// pump forwards each response's event to out until the stream ends, and
// calls seen after each delivery. It returns the context's error when the
// context ended it, io.EOF when the agent ended it without an error, else
// the mapped stream error.
func pump[R, E any](ctx context.Context, stream grpc.ServerStreamingClient[R], event func(*R) E, out chan<- E, seen func(E)) error {
	for {
		resp, err := stream.Recv()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, io.EOF) {
				return io.EOF
			}
			return errgrpc.FromGRPC(err)
		}
		ev := event(resp)
		select {
		case out <- ev:
			seen(ev)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
