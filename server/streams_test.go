package server

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/remotectl/remotectl/internal/pki"
	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
)

// TestHalfOpenStreamsCappedAndTimedOut: streams that send HEADERS and never
// their request (a unary method opened as a stream, no SendMsg) count
// against a per-identity cap at the transport, across connections, and end
// after the request timeout, after which the identity can call again
// (issue 13, finding 6).
func TestHalfOpenStreamsCappedAndTimedOut(t *testing.T) {
	a := startTLSAgent(t, Limits{OpenStreamsPerIdentity: 4, RequestTimeout: 3 * time.Second}, "")
	c, k, err := a.ca.IssueClient("mallory", time.Hour, pki.WithOU("viewers"))
	pair := keyPair(t, c, k, err)
	conns := []*grpc.ClientConn{a.conn(t, pair), a.conn(t, pair)}
	desc := &grpc.StreamDesc{ServerStreams: true, ClientStreams: true}
	const method = "/remotectl.v1.ProcessService/ListProcesses"
	ctx := context.Background()
	var open []grpc.ClientStream
	for i := range 4 {
		s, err := conns[i%2].NewStream(ctx, desc, method)
		if err != nil {
			t.Fatal(err)
		}
		open = append(open, s)
	}
	waitFor(t, "four open streams at the server", func() bool {
		a.srv.gate.mu.Lock()
		defer a.srv.gate.mu.Unlock()
		return a.srv.gate.open["CN=mallory,OU=viewers"] == 4
	})
	extra, err := conns[0].NewStream(ctx, desc, method)
	if err != nil {
		t.Fatal(err)
	}
	if err := extra.RecvMsg(new(pb.ListProcessesResponse)); status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("fifth half-open stream: %v, want ResourceExhausted", err)
	}
	for i, s := range open {
		if err := s.RecvMsg(new(pb.ListProcessesResponse)); err == nil {
			t.Fatalf("half-open stream %d got a response", i)
		}
	}
	procs := pb.NewProcessServiceClient(conns[1])
	if _, err := procs.ListProcesses(ctx, &pb.ListProcessesRequest{}); err != nil {
		t.Fatalf("after the timeouts: %v", err)
	}
}
