package server

import (
	"context"
	"maps"
	"slices"
	"strings"

	"github.com/remotectl/remotectl/internal/errdefs"
	"github.com/remotectl/remotectl/internal/errdefs/errgrpc"
	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
)

// WhoAmI reports the caller as the authorization policy sees it.
func (a *agentAPI) WhoAmI(ctx context.Context, _ *pb.WhoAmIRequest) (*pb.WhoAmIResponse, error) {
	id, ok := IdentityFromContext(ctx)
	if !ok {
		return nil, errgrpc.ToGRPC(errdefs.ErrUnauthenticated)
	}
	p := a.guard.policy.Load()
	roles := p.Roles(id)
	resp := &pb.WhoAmIResponse{
		CommonName:          id.CommonName,
		OrganizationalUnits: id.OrganizationalUnits,
		Uris:                id.URIs,
		DnsNames:            id.DNSNames,
		Serial:              id.Serial,
		Subject:             id.Subject,
		Roles:               roles,
		ProtectedServices:   p.ProtectedServices(),
	}
	for _, perm := range p.Permissions(id) {
		resp.Permissions = append(resp.Permissions, string(perm))
	}
	allow := p.ServiceAllowLists(roles)
	for _, r := range slices.Sorted(maps.Keys(allow)) {
		resp.ServiceAllowLists = append(resp.ServiceAllowLists, r+": "+strings.Join(allow[r], ", "))
	}
	return resp, nil
}
