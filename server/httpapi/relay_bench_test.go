package httpapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"google.golang.org/grpc"

	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
)

type fixedAgent struct {
	pb.UnimplementedAgentServiceServer
	resp *pb.HeartbeatResponse
}

func (a fixedAgent) Heartbeat(context.Context, *pb.HeartbeatRequest) (*pb.HeartbeatResponse, error) {
	return a.resp, nil
}

// BenchmarkRelayUnary is the cost of the HTTP face per unary call beyond
// net/http and the handler: request building, grpc.Server.ServeHTTP and
// the JSON response, on a heartbeat-sized message. Profile (Go 1.26,
// protobuf 1.36): protojson's field ordering (sort.Slice) is the largest
// single part, then the handler transport's goroutines.
func BenchmarkRelayUnary(b *testing.B) {
	gs := grpc.NewServer()
	pb.RegisterAgentServiceServer(gs, fixedAgent{resp: &pb.HeartbeatResponse{Hostname: "bench", Os: "linux", Platform: "debian",
		CpuCount: 2, Backends: []*pb.Backend{{Capability: "processes", Implementation: "procfs", Available: true}}}})
	h, err := NewHandler(Config{GRPC: gs, MaxRequestBytes: 1 << 20})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/heartbeat", nil))
		if rec.Code != http.StatusOK {
			b.Fatal(rec.Code, rec.Body)
		}
	}
}
