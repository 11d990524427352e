// Package guard authorizes, rate-limits and audits service changes as one
// decorator around the service Manager (like metrics.Services), so every
// front end (gRPC, the HTTP gateway) goes through the same checks. Before a
// change runs it resolves the change's whole effect (service.ResolveImpact:
// what a systemd job would also stop, which dependents the SCM would stop)
// and applies the protected-service, allow-list and power rules to every
// service the change touches. It imports no gRPC code.
package guard

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/time/rate"

	"github.com/remotectl/remotectl/internal/errdefs"
	"github.com/remotectl/remotectl/internal/pki"
	"github.com/remotectl/remotectl/server/audit"
	"github.com/remotectl/remotectl/server/authz"
	"github.com/remotectl/remotectl/server/service"
)

// Caller is who asks for a change, through which method.
type Caller struct {
	Identity pki.Identity
	Peer     string
	// Method is the full gRPC method name the authorization table is keyed
	// by ("/remotectl.v1.ServiceManager/StopService"); other front ends
	// name the RPC they stand for.
	Method string
}

type callerKey struct{}

// WithCaller attaches the caller to ctx for the decorator.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the caller attached by WithCaller.
func CallerFrom(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok
}

// Methods of the authorization table the decorator judges, by operation.
var Methods = map[service.Op]string{
	service.OpStart:   "/remotectl.v1.ServiceManager/StartService",
	service.OpStop:    "/remotectl.v1.ServiceManager/StopService",
	service.OpRestart: "/remotectl.v1.ServiceManager/RestartService",
}

// Config is what the decorator needs.
type Config struct {
	// Policy returns the current policy (it changes on reload).
	Policy func() *authz.Policy
	Audit  *audit.Sink
	// Limiter is the per-identity budget for changes, shared with any other
	// mutating path of the server.
	Limiter *Limiter
	// Resolver resolves impacts; nil means the decorated manager. Pass the
	// bare backend so the metrics wrapper does not hide its ImpactResolver.
	Resolver service.Manager
	Log      zerolog.Logger
}

// Services wraps m so Start, Stop and Restart are authorized, rate limited
// and audited; everything else passes through.
func Services(m service.Manager, cfg Config) service.Manager {
	if cfg.Resolver == nil {
		cfg.Resolver = m
	}
	return &guarded{Manager: m, cfg: cfg, denials: audit.NewSampler(DenialInterval, DenialsPerIdentity, DenialIdentities)}
}

// Denials by authenticated identities are sampled: per DenialInterval each
// identity gets DenialsPerIdentity records, DenialIdentities identities get
// any; the rest is counted in one "suppressed" record per identity.
const (
	DenialInterval     = time.Minute
	DenialsPerIdentity = 20
	DenialIdentities   = 256
)

type guarded struct {
	service.Manager
	cfg     Config
	denials *audit.Sampler
}

func (g *guarded) Start(ctx context.Context, name string, o service.ControlOptions) (service.Result, error) {
	return g.change(ctx, service.OpStart, name, o, g.Manager.Start)
}

func (g *guarded) Stop(ctx context.Context, name string, o service.ControlOptions) (service.Result, error) {
	return g.change(ctx, service.OpStop, name, o, g.Manager.Stop)
}

func (g *guarded) Restart(ctx context.Context, name string, o service.ControlOptions) (service.Result, error) {
	return g.change(ctx, service.OpRestart, name, o, g.Manager.Restart)
}

type actFunc func(context.Context, string, service.ControlOptions) (service.Result, error)

// observeTimeout bounds the read of a target's state after a failed change.
const observeTimeout = 3 * time.Second

func (g *guarded) change(ctx context.Context, op service.Op, name string, opts service.ControlOptions, act actFunc) (res service.Result, err error) {
	start := time.Now()
	c, ok := CallerFrom(ctx)
	if !ok {
		return res, fmt.Errorf("%w: no caller identity reached the service guard (refusing by default)", errdefs.ErrPermissionDenied)
	}
	if c.Method == "" {
		c.Method = Methods[op]
	}
	rec := audit.Record{Identity: c.Identity.String(), Peer: c.Peer, Method: c.Method, Target: name}
	if err := service.ValidateName(name); err != nil {
		return res, err // changes nothing; the caller's budget is not spent
	}
	// The budget is spent before any backend lookup, so a flood of
	// requests cannot make the agent walk dependency graphs.
	if !g.cfg.Limiter.Allow(rec.Identity) {
		return res, g.deny(rec, start, "", fmt.Errorf("%w: rate limit for service changes exceeded for %s; retry shortly", errdefs.ErrResourceExhausted, rec.Identity))
	}
	imp, lerr := service.ResolveImpact(ctx, g.cfg.Resolver, op, name, opts)
	if lerr != nil && !service.LookupFailureIsBenign(lerr) {
		// Fail closed: the rules cannot judge a change whose effect is
		// unknown. The backend's own error says why.
		return res, g.deny(rec, start, "", lerr)
	}
	change := authz.Change{Names: []string{name, imp.Target}, Stops: imp.Stops, Restarts: imp.Restarts, Starts: imp.Starts, PowerActions: imp.PowerActions}
	if d := g.cfg.Policy().DecideChange(c.Identity, c.Method, change); !d.Allowed {
		return res, g.deny(rec, start, d.Rule.Permission, fmt.Errorf("%w: %s", errdefs.ErrPermissionDenied, d.Reason))
	}
	if lerr == nil {
		if err := imp.CheckDependents(opts); err != nil {
			return res, g.deny(rec, start, "", err)
		}
	}
	rec.StateBefore, rec.SideEffects = imp.State.String(), imp.SideEffects()
	if lerr != nil {
		rec.StateBefore = ""
	}
	intent := rec
	intent.Event = audit.EventIntent
	if err := g.cfg.Audit.Write(intent); err != nil {
		g.cfg.Log.Error().Err(err).Str("method", c.Method).Str("target", name).Msg("audit sink failed; refusing the change")
		return res, fmt.Errorf("%w: the agent cannot write its audit log, so it refuses to change anything; see the agent's log", errdefs.ErrUnavailable)
	}
	// The result record is written however act ends, a panic included.
	defer func() {
		p := recover()
		if p != nil {
			err = fmt.Errorf("%w: panic in the service backend: %v", errdefs.ErrInternal, p)
		}
		g.result(ctx, rec, start, imp.Target, res, err)
		if p != nil {
			panic(p)
		}
	}()
	return act(ctx, name, opts)
}

// result writes the result record with the state observed after the change.
func (g *guarded) result(ctx context.Context, rec audit.Record, start time.Time, target string, res service.Result, err error) {
	rec.Event, rec.Outcome, rec.Duration = audit.EventResult, Outcome(err), time.Since(start)
	if err == nil {
		rec.StateBefore, rec.StateAfter = res.PreviousState.String(), res.Service.State.String()
	} else {
		rec.Message = err.Error()
		// What happened matters more than what was hoped for: a power-off
		// shows as the backend becoming unreachable.
		octx, cancel := context.WithTimeout(context.WithoutCancel(ctx), observeTimeout)
		s, gerr := g.Get(octx, target)
		cancel()
		if gerr != nil {
			rec.StateAfter = "unobservable: " + Outcome(gerr)
		} else {
			rec.StateAfter = s.State.String()
		}
	}
	if werr := g.cfg.Audit.Write(rec); werr != nil {
		g.cfg.Log.Error().Err(werr).Str("method", rec.Method).Str("target", rec.Target).Str("outcome", rec.Outcome).
			Msg("audit result record could not be written after the change")
	}
}

// deny audits a refusal (sampled per identity) and returns err.
func (g *guarded) deny(rec audit.Record, start time.Time, perm authz.Permission, err error) error {
	rec.Event, rec.Outcome, rec.Message, rec.Permission, rec.Duration = audit.EventDenied, Outcome(err), err.Error(), string(perm), time.Since(start)
	ok, flushed := g.denials.Admit(rec.Identity, time.Now())
	if werr := g.cfg.Audit.WriteTallies(rec.Method, "identity", flushed); werr != nil {
		g.cfg.Log.Error().Err(werr).Msg("audit record of suppressed denials could not be written")
	}
	if ok {
		if werr := g.cfg.Audit.Write(rec); werr != nil {
			g.cfg.Log.Error().Err(werr).Str("method", rec.Method).Msg("audit record of a denial could not be written")
		}
	}
	return err
}

// Outcome names err's kind as the audit trail spells it (the gRPC code
// names: "OK", "PermissionDenied", ...).
func Outcome(err error) string {
	if err == nil {
		return "OK"
	}
	for _, k := range outcomes {
		if errors.Is(err, k.err) {
			return k.name
		}
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "DeadlineExceeded"
	case errors.Is(err, context.Canceled):
		return "Canceled"
	}
	return "Unknown"
}

var outcomes = []struct {
	err  error
	name string
}{
	{errdefs.ErrInvalidArgument, "InvalidArgument"}, {errdefs.ErrNotFound, "NotFound"},
	{errdefs.ErrPermissionDenied, "PermissionDenied"}, {errdefs.ErrUnauthenticated, "Unauthenticated"},
	{errdefs.ErrFailedPrecondition, "FailedPrecondition"}, {errdefs.ErrUnavailable, "Unavailable"},
	{errdefs.ErrNotSupported, "Unimplemented"}, {errdefs.ErrDeadlineExceeded, "DeadlineExceeded"},
	{errdefs.ErrResourceExhausted, "ResourceExhausted"}, {errdefs.ErrCanceled, "Canceled"},
	{errdefs.ErrInternal, "Internal"},
}

// Limiter is a token bucket per identity.
type Limiter struct {
	perSecond float64
	burst     int
	mu        sync.Mutex
	buckets   map[string]*rate.Limiter
}

// NewLimiter allows perSecond changes per identity with bursts of burst.
func NewLimiter(perSecond float64, burst int) *Limiter {
	return &Limiter{perSecond: perSecond, burst: burst, buckets: map[string]*rate.Limiter{}}
}

// Allow spends one token of id's bucket.
func (l *Limiter) Allow(id string) bool {
	l.mu.Lock()
	b, ok := l.buckets[id]
	if !ok {
		b = rate.NewLimiter(rate.Limit(l.perSecond), l.burst)
		l.buckets[id] = b
	}
	l.mu.Unlock()
	return b.Allow()
}
