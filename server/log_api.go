package server

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/remotectl/remotectl/internal/errdefs"
	"github.com/remotectl/remotectl/internal/errdefs/errgrpc"
	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
	"github.com/remotectl/remotectl/server/audit"
	"github.com/remotectl/remotectl/server/authz"
	"github.com/remotectl/remotectl/server/logs"
)

// logAPI adapts the logs domain to remotectl.v1.LogService. The method
// permission (logs.read) is checked by the interceptor; the source rules
// (the agent's and the role's allow-lists) need the request, so they are
// checked here, and every access, granted or refused, is audited.
type logAPI struct {
	pb.UnimplementedLogServiceServer
	reader   logs.Reader
	guard    *guard
	draining <-chan struct{}
}

// logAccess is one audited access to a source.
type logAccess struct {
	c     call
	roles map[string][]string
}

// begin validates the source and resolves the caller's role lists.
func (a *logAPI) begin(ctx context.Context, method string, src logs.Source) (logAccess, error) {
	c := newCall(ctx, method)
	key, err := a.reader.Key(src)
	if err != nil {
		return logAccess{}, errgrpc.ToGRPC(err)
	}
	c.target = key
	p := a.guard.policy.Load()
	return logAccess{c: c, roles: p.LogsAllowLists(p.Roles(c.id))}, nil
}

// refuse maps a domain error; refusals by an allow-list are audited as
// denials, other errors as failed accesses.
func (a *logAPI) refuse(acc logAccess, err error) error {
	if errors.Is(err, errdefs.ErrPermissionDenied) {
		return a.guard.deny(acc.c, codes.PermissionDenied, authz.LogsRead, err.Error())
	}
	st := errgrpc.ToGRPC(err)
	_ = a.record(acc, status.Code(st), status.Convert(st).Message()) // the call fails anyway
	return st
}

// record writes an access record; it fails closed, like mutations: no
// data leaves the agent without its audit record.
func (a *logAPI) record(acc logAccess, code codes.Code, msg string) error {
	r := acc.c.record(audit.EventAccess, code, msg)
	r.Permission = string(authz.LogsRead)
	if err := a.guard.audit.Write(r); err != nil {
		a.guard.log.Error().Err(err).Str("target", acc.c.target).Msg("audit sink failed; refusing the log access")
		return status.Error(codes.Unavailable, "the agent cannot write its audit log, so it serves no logs; see the agent's log")
	}
	return nil
}

func (a *logAPI) ReadLogs(ctx context.Context, req *pb.ReadLogsRequest) (*pb.ReadLogsResponse, error) {
	acc, err := a.begin(ctx, "/remotectl.v1.LogService/ReadLogs", logSourceFromProto(req.GetSource()))
	if err != nil {
		return nil, err
	}
	r := logs.ReadRequest{Source: logSourceFromProto(req.GetSource()), Lines: int(req.GetLines()), Roles: acc.roles}
	if r.Filter, err = logFilterFromProto(req.GetFilter()); err != nil {
		return nil, errgrpc.ToGRPC(err)
	}
	if r.Since, err = sinceFromProto(req.GetSince()); err != nil {
		return nil, errgrpc.ToGRPC(err)
	}
	es, cursor, err := a.reader.Read(ctx, r)
	if err != nil {
		return nil, a.refuse(acc, err)
	}
	if err := a.record(acc, codes.OK, fmt.Sprintf("read %d entries", len(es))); err != nil {
		return nil, err
	}
	return &pb.ReadLogsResponse{Entries: logEntriesToProto(es), Cursor: cursor}, nil
}

func (a *logAPI) FollowLogs(req *pb.FollowLogsRequest, stream grpc.ServerStreamingServer[pb.FollowLogsResponse]) error {
	ctx := stream.Context()
	acc, err := a.begin(ctx, "/remotectl.v1.LogService/FollowLogs", logSourceFromProto(req.GetSource()))
	if err != nil {
		return err
	}
	r := logs.FollowRequest{Source: logSourceFromProto(req.GetSource()), Lines: int(req.GetLines()), Cursor: req.GetCursor(), Roles: acc.roles}
	if r.Filter, err = logFilterFromProto(req.GetFilter()); err != nil {
		return errgrpc.ToGRPC(err)
	}
	if r.Since, err = sinceFromProto(req.GetSince()); err != nil {
		return errgrpc.ToGRPC(err)
	}
	s, err := a.reader.Follow(ctx, r)
	if err != nil {
		return a.refuse(acc, err)
	}
	defer func() { _ = s.Close() }()
	if err := a.record(acc, codes.OK, "follow started"); err != nil {
		return err
	}
	// Headers confirm the follow, so clients see request errors first.
	if err := stream.SendHeader(metadata.MD{}); err != nil {
		return err
	}
	sent, err := a.pump(ctx, s, stream)
	end := acc.c.record(audit.EventAccess, status.Code(err), fmt.Sprintf("follow ended after %d entries", sent))
	end.Permission = string(authz.LogsRead)
	if werr := a.guard.audit.Write(end); werr != nil {
		a.guard.log.Error().Err(werr).Str("target", acc.c.target).Msg("audit record of a follow's end could not be written")
	}
	return err
}

// pump sends batches until the client leaves, the source fails or the
// agent drains.
func (a *logAPI) pump(ctx context.Context, s logs.Stream, stream grpc.ServerStreamingServer[pb.FollowLogsResponse]) (int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-a.draining:
			cancel()
		case <-ctx.Done():
		}
	}()
	sent := 0
	for {
		es, err := s.Next(ctx)
		if err != nil {
			select {
			case <-a.draining:
				return sent, status.Error(codes.Unavailable, "the agent is shutting down; reconnect with the last cursor")
			default:
			}
			if stream.Context().Err() != nil {
				return sent, status.FromContextError(stream.Context().Err()).Err()
			}
			return sent, errgrpc.ToGRPC(err)
		}
		if err := stream.Send(&pb.FollowLogsResponse{Entries: logEntriesToProto(es)}); err != nil {
			return sent, err
		}
		sent += len(es)
	}
}
