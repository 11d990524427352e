package server

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/remotectl/remotectl/internal/errdefs"
	"github.com/remotectl/remotectl/internal/errdefs/errgrpc"
	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
	"github.com/remotectl/remotectl/server/audit"
	"github.com/remotectl/remotectl/server/authz"
	"github.com/remotectl/remotectl/server/process"
	"github.com/remotectl/remotectl/server/service"
)

// processRequest is a request that targets one process by identity.
type processRequest interface {
	GetPid() int32
	GetStartTime() *timestamppb.Timestamp
}

// processTargetName is the audit target of a process request: its pid
// (the rest of its identity goes to the Process* fields once looked up,
// which only callers holding the permission get).
func processTargetName(r processRequest) string { return fmt.Sprintf("pid %d", r.GetPid()) }

// wellFormed: a positive pid and a valid start time, without which the
// handler rejects the request anyway.
func wellFormed(r processRequest) bool {
	return r.GetPid() > 0 && r.GetStartTime() != nil && r.GetStartTime().IsValid()
}

// maxAuditArgs bounds the argv summary in an audit record.
const maxAuditArgs = 256

// procTarget is what the audit trail records about a process target.
type procTarget struct {
	name, user, args string
	start            time.Time
}

func (t *procTarget) fill(r *audit.Record) {
	if t != nil {
		r.ProcessName, r.ProcessUser, r.ProcessArgs, r.ProcessStart = t.name, t.user, t.args, t.start
	}
}

// authorizeProcess identifies the target of a process-control call and
// applies every protection rule: the host's (pid 1, kernel threads, ctld
// and its parent), the main processes of protected services, then the
// policy's (protected_processes, role_process_allow). It returns skip for
// malformed requests, which the handler rejects without spending the
// caller's rate budget, and an already audited status error on refusal.
func (g *guard) authorizeProcess(ctx context.Context, c *call, p *authz.Policy, req processRequest) (skip bool, err error) {
	pid := req.GetPid()
	if !wellFormed(req) {
		return true, nil
	}
	want := req.GetStartTime().AsTime()
	procs, err := g.procs.List(ctx, process.ListOptions{Filter: process.Filter{PIDs: []int32{pid}},
		Fields: process.FieldName | process.FieldExe | process.FieldArgs | process.FieldUser})
	if err != nil {
		return false, g.refuse(c, errgrpc.ToGRPC(err))
	}
	if len(procs) == 0 || !process.SameStart(procs[0].StartTime, want) {
		msg := fmt.Sprintf("process %d started at %s is gone", pid, want.UTC().Format(time.RFC3339Nano))
		if len(procs) > 0 {
			msg += fmt.Sprintf(": pid %d now names %q started at %s (pid reused; list processes again)",
				pid, procs[0].Name, procs[0].StartTime.UTC().Format(time.RFC3339Nano))
		}
		return false, g.refuse(c, errgrpc.ToGRPC(fmt.Errorf("%w: %s", errdefs.ErrNotFound, msg)))
	}
	t := procs[0]
	c.proc = &procTarget{name: t.Name, user: t.User, args: argsSummary(t.Args), start: t.StartTime}
	perm := authz.ProcessesControl
	if rule := g.protect.Rule(t); rule != "" {
		return false, g.deny(*c, codes.PermissionDenied, perm, fmt.Sprintf("process %d (%s) is protected: %s", pid, t.Name, rule))
	}
	if svc, err := g.protectedServiceOf(ctx, p, pid); err != nil {
		return false, g.refuse(c, errgrpc.ToGRPC(err))
	} else if svc != "" {
		return false, g.deny(*c, codes.PermissionDenied, perm, fmt.Sprintf("process %d (%s) is protected: it is the main process of %s", pid, t.Name, svc))
	}
	if d := p.Decide(c.id, c.method, t.Name); !d.Allowed {
		return false, g.deny(*c, codes.PermissionDenied, d.Rule.Permission, d.Reason)
	}
	return false, nil
}

// protectedServiceOf names the protected service whose main process pid
// is, with its rule, or "". A host without a service manager has no
// protected services running; any other failure refuses (fail closed).
func (g *guard) protectedServiceOf(ctx context.Context, p *authz.Policy, pid int32) (string, error) {
	svcs, err := g.services.List(ctx, service.Filter{})
	if errors.Is(err, errdefs.ErrUnavailable) || errors.Is(err, errdefs.ErrNotSupported) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("%w: cannot check the protected services, so the signal is refused: %w", errdefs.ErrUnavailable, err)
	}
	for _, s := range svcs {
		if s.MainPID != pid {
			continue
		}
		if glob, hit := p.ProtectedService(s.Name); hit {
			return fmt.Sprintf("service %q (rule protected_services %q)", s.Name, glob), nil
		}
	}
	return "", nil
}

// refuse audits a call that failed before it could act (target gone,
// listing failed) as a result record and returns err.
func (g *guard) refuse(c *call, err error) error {
	r := c.record(audit.EventResult, status.Code(err), status.Convert(err).Message())
	if werr := g.audit.Write(r); werr != nil {
		g.log.Error().Err(werr).Str("method", c.method).Str("target", c.target).Msg("audit record could not be written")
	}
	return err
}

// argsSummary joins argv for the audit trail, bounded.
func argsSummary(args []string) string {
	s := strings.Join(args, " ")
	if len(s) > maxAuditArgs {
		s = s[:maxAuditArgs] + "..."
	}
	return s
}

// signalOutcome is the audit's state_after of a SignalProcess response.
func signalOutcome(resp any) (string, bool) {
	r, ok := resp.(*pb.SignalProcessResponse)
	if !ok {
		return "", false
	}
	if !r.GetExited() {
		return "signalled", true
	}
	switch {
	case r.ExitSignalNumber != nil:
		return fmt.Sprintf("exited: signal %d", r.GetExitSignalNumber()), true
	case r.ExitCode != nil:
		return fmt.Sprintf("exited: code %d", r.GetExitCode()), true
	}
	return "exited", true
}
