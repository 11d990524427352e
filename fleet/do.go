package fleet

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/connectivity"

	"github.com/remotectl/remotectl/client"
)

// Defaults of DoOptions.
const (
	DefaultParallel       = 32
	DefaultConnectTimeout = 5 * time.Second
)

// ErrUnreachable matches (errors.Is) the error of a host whose agent could
// not be connected to within the connect timeout.
var ErrUnreachable = errors.New("unreachable")

// ErrSkipped matches the result of a host never started: fail-hard stopped
// the run, or the context ended first.
var ErrSkipped = errors.New("skipped")

// UnreachableError is a failed connection to a host's agent.
type UnreachableError struct{ Err error }

func (e *UnreachableError) Error() string        { return e.Err.Error() }
func (e *UnreachableError) Unwrap() error        { return e.Err }
func (e *UnreachableError) Is(target error) bool { return target == ErrUnreachable }

// DoOptions tunes Do. The zero value runs every host, 32 at a time.
type DoOptions struct {
	// Parallel is the sliding window: at most this many hosts in flight.
	Parallel int
	// Batch, when > 0, runs the hosts in consecutive batches of this size;
	// BatchPercent does the same with a share of the targets (rounded up).
	Batch, BatchPercent int
	// BatchWait pauses between batches.
	BatchWait time.Duration
	// FailHard stops starting hosts after the first failure; the rest are
	// reported with ErrSkipped.
	FailHard bool
	// ConnectTimeout bounds connecting to an agent (default 5 s); a host
	// not connected by then is ErrUnreachable. CallTimeout bounds the call
	// itself once connected (0: the client's own call timeout).
	ConnectTimeout, CallTimeout time.Duration
}

// Result is one host's outcome.
type Result[T any] struct {
	Host  Host
	Index int // position in the targets
	Value T
	Err   error
	// Took is the time from the host's start to its result.
	Took time.Duration
}

// BatchSize is the number of hosts per batch for n targets.
func (o DoOptions) BatchSize(n int) int {
	switch {
	case o.Batch > 0:
		return min(o.Batch, n)
	case o.BatchPercent > 0:
		return max(1, min(n, (n*o.BatchPercent+99)/100))
	}
	return n
}

// Do runs fn on every target through the pool and returns the results in
// target order. emit, when not nil, receives each result as it arrives
// (serially: it needs no locking).
func Do[T any](ctx context.Context, p *Pool, targets []Host, o DoOptions, fn func(context.Context, Host, *client.Client) (T, error), emit func(Result[T])) []Result[T] {
	parallel := o.Parallel
	if parallel <= 0 {
		parallel = DefaultParallel
	}
	results := make([]Result[T], len(targets))
	var (
		failed atomic.Bool
		emitMu sync.Mutex
	)
	done := func(r Result[T]) {
		results[r.Index] = r
		if r.Err != nil {
			failed.Store(true)
		}
		if emit != nil {
			emitMu.Lock()
			emit(r)
			emitMu.Unlock()
		}
	}
	sem := make(chan struct{}, parallel)
	size := o.BatchSize(len(targets))
	for start := 0; start < len(targets); start += size {
		var wg sync.WaitGroup
		for i := start; i < min(start+size, len(targets)); i++ {
			h := targets[i]
			if err := stopped(ctx, o, &failed); err != nil {
				done(Result[T]{Host: h, Index: i, Err: err})
				continue
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				done(Result[T]{Host: h, Index: i, Err: fmt.Errorf("%w: %w", ErrSkipped, ctx.Err())})
				continue
			}
			// Fail-hard is checked again: a failure may have come in
			// while waiting for a slot.
			if err := stopped(ctx, o, &failed); err != nil {
				<-sem
				done(Result[T]{Host: h, Index: i, Err: err})
				continue
			}
			wg.Go(func() {
				defer func() { <-sem }()
				done(runOne(ctx, p, h, i, o, fn))
			})
		}
		wg.Wait()
		if start+size < len(targets) && o.BatchWait > 0 {
			t := time.NewTimer(o.BatchWait)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
			}
		}
	}
	return results
}

func stopped(ctx context.Context, o DoOptions, failed *atomic.Bool) error {
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("%w: %w", ErrSkipped, ctx.Err())
	case o.FailHard && failed.Load():
		return fmt.Errorf("%w: an earlier host failed (--failhard)", ErrSkipped)
	}
	return nil
}

func runOne[T any](ctx context.Context, p *Pool, h Host, i int, o DoOptions, fn func(context.Context, Host, *client.Client) (T, error)) Result[T] {
	start := time.Now()
	r := Result[T]{Host: h, Index: i}
	c, err := p.Get(ctx, h)
	if err != nil {
		r.Err, r.Took = err, time.Since(start)
		return r
	}
	ct := o.ConnectTimeout
	if ct <= 0 {
		ct = DefaultConnectTimeout
	}
	ready, err := Connect(ctx, c, ct)
	if err != nil {
		r.Err, r.Took = err, time.Since(start)
		return r
	}
	cctx := ctx
	if o.CallTimeout > 0 {
		var cancel context.CancelFunc
		cctx, cancel = context.WithTimeout(ctx, o.CallTimeout)
		defer cancel()
	}
	r.Value, r.Err = fn(cctx, h, c)
	// A connection that had already failed makes the call fail fast with
	// the connection's error: the host is unreachable, not failing.
	if !ready && errors.Is(r.Err, client.ErrUnavailable) {
		r.Err = &UnreachableError{r.Err}
	}
	r.Took = time.Since(start)
	return r
}

// Connect starts connecting c and waits up to d for the outcome. It
// reports ready=false without an error when the connection failed: a
// call then fails fast with grpc's own account of why (refused, TLS...).
// It returns an UnreachableError when d passes while still connecting.
func Connect(ctx context.Context, c *client.Client, d time.Duration) (ready bool, err error) {
	conn := c.Conn()
	conn.Connect()
	wctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	for {
		switch s := conn.GetState(); s {
		case connectivity.Ready:
			return true, nil
		case connectivity.TransientFailure, connectivity.Shutdown:
			return false, nil
		default:
			if !conn.WaitForStateChange(wctx, s) {
				if ctx.Err() != nil {
					return false, ctx.Err()
				}
				return false, &UnreachableError{fmt.Errorf("%w: no connection to the agent within the connect timeout %s", client.ErrDeadlineExceeded, d)}
			}
		}
	}
}
