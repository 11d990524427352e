package server

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"

	"github.com/remotectl/remotectl/internal/pki"
	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
)

// TestStreamCapNamesLimitAndSparesHealthAndReflection: with the cap
// reached, health and reflection streams still open, and the refusal names
// the limit and the setting that raises it (issue 13, finding 17).
func TestStreamCapNamesLimitAndSparesHealthAndReflection(t *testing.T) {
	a := startTLSAgent(t, Limits{StreamsPerIdentity: 1}, "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, k, err := a.ca.IssueClient("vera", time.Hour, pki.WithOU("viewers"))
	cc := a.conn(t, keyPair(t, c, k, err))
	procs := pb.NewProcessServiceClient(cc)
	first, err := procs.WatchProcesses(ctx, &pb.WatchProcessesRequest{IncludeExisting: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.Recv(); err != nil {
		t.Fatal(err)
	}
	refl, err := reflectionpb.NewServerReflectionClient(cc).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := refl.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}); err != nil {
		t.Fatal(err)
	}
	if _, err := refl.Recv(); err != nil {
		t.Fatalf("reflection stream at the cap: %v", err)
	}
	hw, err := healthpb.NewHealthClient(cc).Watch(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hw.Recv(); err != nil {
		t.Fatalf("health watch at the cap: %v", err)
	}
	second, err := procs.WatchProcesses(ctx, &pb.WatchProcessesRequest{IncludeExisting: true})
	if err == nil {
		_, err = second.Recv()
	}
	msg := status.Convert(err).Message()
	if status.Code(err) != codes.ResourceExhausted || !strings.Contains(msg, "the limit is 1 per identity") ||
		!strings.Contains(msg, "limits.streams_per_identity") || !strings.Contains(msg, "--streams-per-identity") {
		t.Fatalf("second watch: %v, want ResourceExhausted naming the limit and the setting", err)
	}
}
