package server

import (
	"context"
	"crypto/x509"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
	"github.com/remotectl/remotectl/server/agent"
)

// agentAPI adapts agent.Reporter to remotectl.v1.AgentService.
type agentAPI struct {
	pb.UnimplementedAgentServiceServer
	reporter   *agent.Reporter
	guard      *guard
	serverCert func() *x509.Certificate
}

func (a *agentAPI) Heartbeat(ctx context.Context, _ *pb.HeartbeatRequest) (*pb.HeartbeatResponse, error) {
	if id, _ := IdentityFromContext(ctx); len(a.guard.policy.Load().Roles(id)) == 0 {
		return a.unboundHeartbeat(), nil
	}
	in := a.reporter.Heartbeat(ctx)
	out := &pb.HeartbeatResponse{
		AgentVersion:         in.AgentVersion,
		AgentCommit:          in.AgentCommit,
		Hostname:             in.Hostname,
		Os:                   in.OS,
		Platform:             in.Platform,
		PlatformVersion:      in.PlatformVersion,
		KernelVersion:        in.KernelVersion,
		Architecture:         in.Architecture,
		AgentStartTime:       timestamppb.New(in.AgentStartTime),
		ServerTime:           timestamppb.New(in.ServerTime),
		CpuCount:             uint32(in.CPUCount),
		CpuPercent:           in.CPUPercent,
		MemoryTotalBytes:     in.MemoryTotal,
		MemoryUsedBytes:      in.MemoryUsed,
		MemoryAvailableBytes: in.MemoryAvailable,
		ProcessCount:         uint32(in.ProcessCount),
	}
	if !in.BootTime.IsZero() {
		out.BootTime = timestamppb.New(in.BootTime)
	}
	if in.CPUWindow > 0 {
		out.CpuPercentWindow = durationpb.New(in.CPUWindow)
	}
	if in.Load != nil {
		out.LoadAverage = &pb.LoadAverage{Load1: in.Load.Load1, Load5: in.Load.Load5, Load15: in.Load.Load15}
	}
	if a.serverCert != nil {
		if c := a.serverCert(); c != nil {
			out.ServerCertNotAfter = timestamppb.New(c.NotAfter)
			out.ServerCertSerial = c.SerialNumber.Text(16)
		}
	}
	for _, b := range in.Backends {
		out.Backends = append(out.Backends, &pb.Backend{
			Capability: b.Capability, Implementation: b.Implementation, Available: b.Available, Reason: b.Reason,
		})
	}
	return out, nil
}

// unboundHeartbeat is what an identity without any role learns: that the
// agent is alive, its clock and when its certificate expires; not its host
// name, versions, certificate serial, load or backend errors.
func (a *agentAPI) unboundHeartbeat() *pb.HeartbeatResponse {
	out := &pb.HeartbeatResponse{ServerTime: timestamppb.Now()}
	if a.serverCert != nil {
		if c := a.serverCert(); c != nil {
			out.ServerCertNotAfter = timestamppb.New(c.NotAfter)
		}
	}
	return out
}
