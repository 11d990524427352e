package server

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	middleware "github.com/grpc-ecosystem/go-grpc-middleware/v2"
	"github.com/rs/zerolog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/remotectl/remotectl/internal/defaults"
	"github.com/remotectl/remotectl/internal/pki"
	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
	"github.com/remotectl/remotectl/server/audit"
	"github.com/remotectl/remotectl/server/authz"
	svcguard "github.com/remotectl/remotectl/server/guard"
	"github.com/remotectl/remotectl/server/process"
	"github.com/remotectl/remotectl/server/service"
)

// Limits bound what one identity can ask for. Zero fields take the defaults.
type Limits struct {
	// MutationsPerSecond and MutationBurst rate-limit start/stop/restart
	// per identity (token bucket).
	MutationsPerSecond float64
	MutationBurst      int
	// StreamsPerIdentity caps concurrently open streaming calls (watch,
	// follow) per identity; health and reflection do not count.
	StreamsPerIdentity int
	// OpenStreamsPerIdentity caps the HTTP/2 streams an identity may have
	// open across its connections at the transport, calls waiting for
	// their request included. Zero means StreamsPerIdentity plus
	// DefaultOpenStreamsHeadroom for unary calls.
	OpenStreamsPerIdentity int
	// RequestTimeout ends a stream whose request message does not arrive
	// in time after its headers.
	RequestTimeout time.Duration
	// ReadsPerSecond and ReadBurst rate-limit every other unary call
	// (lists, gets, heartbeats) per identity; health is exempt, and stream
	// starts are bounded by the stream caps instead (a controller
	// reconnecting its watches opens many at once).
	ReadsPerSecond float64
	ReadBurst      int
}

// DefaultLimits are what zero fields take: generous for people and
// scripts, tight enough that one compromised client cannot flap every
// service or exhaust the agent. OpenStreamsPerIdentity has no default of its
// own: it follows StreamsPerIdentity (see withDefaults).
var DefaultLimits = Limits{
	MutationsPerSecond: 2,
	MutationBurst:      10,
	StreamsPerIdentity: 32,
	RequestTimeout:     10 * time.Second,
	ReadsPerSecond:     50,
	ReadBurst:          200,
}

// DefaultOpenStreamsHeadroom is what a zero OpenStreamsPerIdentity adds to
// StreamsPerIdentity, for unary calls.
const DefaultOpenStreamsHeadroom = 224

func (l Limits) withDefaults() Limits {
	openFollows := l.OpenStreamsPerIdentity <= 0
	defaults.FillAll(&l, DefaultLimits)
	if openFollows {
		l.OpenStreamsPerIdentity = l.StreamsPerIdentity + DefaultOpenStreamsHeadroom
	}
	return l
}

// guard is the authorization interceptor's state: the policy (swappable on
// reload), the audit sink, and the per-identity limiters.
type guard struct {
	policy   atomic.Pointer[authz.Policy]
	audit    *audit.Sink
	services service.Manager
	limits   Limits
	log      zerolog.Logger

	// changes is the per-identity budget of mutations, shared with the
	// service decorator (package guard).
	changes *svcguard.Limiter
	// reads is the per-identity budget of every other call.
	// Both are spent inside the guard, not by go-grpc-middleware's
	// ratelimit interceptor: that one runs before and apart from
	// authorization, so it cannot tell a mutation from a read or a public
	// call from a private one (which budget, or none), nor write the audit
	// record every refusal gets, and it fixes the refusal's message.
	reads *svcguard.Limiter
	// denials samples the audit records of refused calls per identity.
	denials *audit.Sampler
	// live are the admitted streams, re-authorized when the policy changes.
	live liveStreams

	// procs and protect identify and protect SignalProcess targets.
	procs   process.Lister
	protect process.Protection

	mu      sync.Mutex
	streams map[string]int
}

func newGuard(p *authz.Policy, sink *audit.Sink, mgr service.Manager, l Limits, log zerolog.Logger) *guard {
	l = l.withDefaults()
	g := &guard{audit: sink, services: mgr, limits: l, log: log,
		changes: svcguard.NewLimiter(l.MutationsPerSecond, l.MutationBurst), streams: map[string]int{},
		reads:   svcguard.NewLimiter(l.ReadsPerSecond, l.ReadBurst),
		denials: audit.NewSampler(svcguard.DenialInterval, svcguard.DenialsPerIdentity, svcguard.DenialIdentities)}
	g.policy.Store(p)
	return g
}

// mayReadArgv: the caller holds processes.argv under the current policy.
func (g *guard) mayReadArgv(ctx context.Context) bool {
	id, _ := IdentityFromContext(ctx)
	return g.policy.Load().Has(id, authz.ProcessesArgv)
}

// decorated reports whether the service decorator (package guard)
// authorizes and audits method against everything the change touches.
func decorated(method string) bool {
	for _, m := range svcguard.Methods {
		if m == method {
			return true
		}
	}
	return false
}

// call is what the audit trail records about one call.
type call struct {
	id     pki.Identity
	key    string // id.String(), computed once per connection
	method string
	peer   string
	target string
	start  time.Time
	proc   *procTarget // process-control calls only
}

// who is the caller's identity as the limiters, audit and logs key it.
func (c *call) who() string {
	if c.key == "" {
		return c.id.String()
	}
	return c.key
}

func newCall(ctx context.Context, method string) call {
	c := call{method: method, start: time.Now()}
	if who, ok := callerFromContext(ctx); ok {
		c.id, c.key = who.id, who.key
	}
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		c.peer = p.Addr.String()
	}
	return c
}

func (c call) record(event string, code codes.Code, msg string) audit.Record {
	r := audit.Record{Event: event, Identity: c.who(), Peer: c.peer, Method: c.method, Target: c.target,
		Outcome: code.String(), Message: msg, Duration: time.Since(c.start)}
	c.proc.fill(&r)
	return r
}

// deny audits a refusal and returns its status. A failed audit write is
// logged: the call is refused either way.
func (g *guard) deny(c call, code codes.Code, perm authz.Permission, msg string) error {
	r := c.record(audit.EventDenied, code, msg)
	r.Permission = string(perm)
	// Sampled per identity: a caller hammering refused calls cannot fill
	// the audit log (the rest is counted in "suppressed" records).
	ok, flushed := g.denials.Admit(r.Identity, time.Now())
	if err := g.audit.WriteTallies("", "identity", flushed); err != nil {
		g.log.Error().Err(err).Msg("audit record of suppressed denials could not be written")
	}
	if !ok {
		return status.Error(code, msg)
	}
	if err := g.audit.Write(r); err != nil {
		g.log.Error().Err(err).Str("method", c.method).Msg("audit record of a denial could not be written")
	}
	return status.Error(code, msg)
}

// overBudget spends one read token of c's identity; true when none is left.
func (g *guard) overBudget(c call, d authz.Decision) bool {
	return d.Rule.Permission != authz.Public && !d.Rule.Mutates && !g.reads.Allow(c.who())
}

func (g *guard) readDenied(c call, d authz.Decision) error {
	return g.deny(c, codes.ResourceExhausted, d.Rule.Permission, fmt.Sprintf(
		"read rate limit exceeded for %s (%g calls/s, burst %d); slow down", c.id, g.limits.ReadsPerSecond, g.limits.ReadBurst))
}

// namedRequest is any request that names a service.
type namedRequest interface{ GetName() string }

func (g *guard) unary() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		c := newCall(ctx, info.FullMethod)
		if pr, ok := req.(processRequest); ok {
			c.target = processTargetName(pr)
		}
		p := g.policy.Load()
		d := p.Decide(c.id, c.method)
		if !d.Allowed {
			return nil, g.deny(c, codes.PermissionDenied, d.Rule.Permission, d.Reason)
		}
		if g.overBudget(c, d) {
			return nil, g.readDenied(c, d)
		}
		ctx = svcguard.WithCaller(ctx, svcguard.Caller{Identity: c.id, Peer: c.peer, Method: c.method})
		if !d.Rule.Mutates || decorated(c.method) {
			return h(ctx, req)
		}
		// The service rules see both the requested and the backend's
		// canonical name, so an alias cannot slip past a protected glob.
		var before string
		if pr, ok := req.(processRequest); ok {
			skip, err := g.authorizeProcess(ctx, &c, p, pr)
			if err != nil {
				return nil, err
			}
			if skip {
				return g.finish(ctx, c, req, h, "")
			}
		}
		if nr, ok := req.(namedRequest); ok {
			c.target = nr.GetName()
			if service.ValidateName(c.target) != nil {
				// A malformed name changes nothing: let the handler answer
				// INVALID_ARGUMENT without spending the caller's rate budget.
				return g.finish(ctx, c, req, h, "")
			}
			targets := []string{c.target}
			if s, err := g.services.Get(ctx, c.target); err == nil {
				targets, before = append(targets, s.Name), s.State.String()
			}
			if d = p.Decide(c.id, c.method, targets...); !d.Allowed {
				return nil, g.deny(c, codes.PermissionDenied, d.Rule.Permission, d.Reason)
			}
		}
		if !g.changes.Allow(c.who()) {
			return nil, g.deny(c, codes.ResourceExhausted, d.Rule.Permission,
				"rate limit for service changes exceeded for "+c.who()+"; retry shortly")
		}
		intent := c.record(audit.EventIntent, codes.OK, "")
		intent.Outcome, intent.StateBefore = "", before
		if err := g.audit.Write(intent); err != nil {
			g.log.Error().Err(err).Str("method", c.method).Str("target", c.target).Msg("audit sink failed; refusing the change")
			return nil, status.Error(codes.Unavailable, "the agent cannot write its audit log, so it refuses to change anything; see the agent's log")
		}
		return g.finish(ctx, c, req, h, before)
	}
}

// finish runs the handler and writes the result record.
func (g *guard) finish(ctx context.Context, c call, req any, h grpc.UnaryHandler, before string) (any, error) {
	resp, err := h(ctx, req)
	r := c.record(audit.EventResult, status.Code(err), "")
	r.StateBefore = before
	if err != nil {
		r.Message = status.Convert(err).Message()
	} else if cr, ok := resp.(controlResponse); ok {
		r.StateBefore = stateText(cr.GetPreviousState())
		r.StateAfter = stateText(cr.GetService().GetState())
	} else if after, ok := signalOutcome(resp); ok {
		r.StateAfter = after
	}
	if werr := g.audit.Write(r); werr != nil {
		// Too late to refuse: the change (if any) happened. Say so loudly.
		g.log.Error().Err(werr).Str("method", c.method).Str("target", c.target).Str("outcome", r.Outcome).
			Msg("audit result record could not be written after the change")
	}
	return resp, err
}

// controlResponse: service changes still on the generic path (start type)
// report the state around them.
type controlResponse interface {
	GetPreviousState() pb.ServiceState
	GetService() *pb.Service
}

// stateText spells a wire state as the domain does, so the intent record
// (domain state) and the result record (wire state) agree ("unknown").
func stateText(s pb.ServiceState) string { return serviceStateFromProto(s).String() }

func (g *guard) stream() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
		c := newCall(ss.Context(), info.FullMethod)
		d := g.policy.Load().Decide(c.id, c.method)
		if !d.Allowed {
			return g.deny(c, codes.PermissionDenied, d.Rule.Permission, d.Reason)
		}
		if capped(c.method) {
			key := c.who()
			if !g.acquireStream(key) {
				return g.deny(c, codes.ResourceExhausted, d.Rule.Permission, fmt.Sprintf(
					"too many concurrent streams for %s: the limit is %d per identity (ctld limits.streams_per_identity, flag --streams-per-identity); close some and retry",
					key, g.limits.StreamsPerIdentity))
			}
			defer g.releaseStream(key)
		}
		// The stream is registered so a policy change that takes the
		// permission away ends it (see liveStreams.recheck).
		ctx, cancel := context.WithCancelCause(ss.Context())
		defer cancel(nil)
		defer g.live.add(liveStream{id: c.id, method: c.method, cancel: cancel})()
		ws := middleware.WrapServerStream(ss)
		ws.WrappedContext = ctx
		err := h(srv, ws)
		if errors.Is(context.Cause(ctx), errPolicyChanged) {
			return g.deny(c, codes.PermissionDenied, d.Rule.Permission, errPolicyChanged.Error()+" for "+c.who())
		}
		return err
	}
}

// capped: health and reflection streams do not count against the
// per-identity stream cap (they are cheap and tools open them freely).
func capped(method string) bool {
	return !strings.HasPrefix(method, "/grpc.health.") && !strings.HasPrefix(method, "/grpc.reflection.")
}

func (g *guard) acquireStream(key string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.streams[key] >= g.limits.StreamsPerIdentity {
		return false
	}
	g.streams[key]++
	return true
}

func (g *guard) releaseStream(key string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.streams[key]--; g.streams[key] <= 0 {
		delete(g.streams, key)
	}
}
