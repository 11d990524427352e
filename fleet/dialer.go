package fleet

import (
	"context"
	"sync"

	"github.com/remotectl/remotectl/client"
)

// Dialer is how a controller reaches an agent: the one seam between the
// fleet code and the network. DirectDialer connects to the agent's
// address; a relay or broker for agents that dial out implements Dial by
// returning client.NewWithConn over its own transport. Dial must not block
// on the network: clients connect lazily on first use.
type Dialer interface {
	Dial(ctx context.Context, h Host) (*client.Client, error)
}

// DirectDialer dials each agent at its address with shared options
// (credentials, call timeout, user agent).
type DirectDialer struct {
	Options []client.Option
}

// Dial implements Dialer.
func (d DirectDialer) Dial(_ context.Context, h Host) (*client.Client, error) {
	opts := d.Options
	if h.ServerName != "" {
		opts = append(append([]client.Option(nil), opts...), client.WithServerName(h.ServerName))
	}
	return client.New(h.Address(), opts...)
}

// DialerFunc adapts a function to Dialer.
type DialerFunc func(ctx context.Context, h Host) (*client.Client, error)

// Dial implements Dialer.
func (f DialerFunc) Dial(ctx context.Context, h Host) (*client.Client, error) { return f(ctx, h) }

// Pool holds one client per host name, made on first use and shared by
// every call to that host afterwards. It is safe for concurrent use.
type Pool struct {
	dialer Dialer
	mu     sync.Mutex
	conns  map[string]*poolEntry
}

type poolEntry struct {
	once sync.Once
	c    *client.Client
	err  error
}

// NewPool returns an empty pool that dials with d.
func NewPool(d Dialer) *Pool { return &Pool{dialer: d, conns: map[string]*poolEntry{}} }

// Get returns the host's client, dialing it the first time. A failed dial
// (bad credentials) is remembered: it would fail the same way again.
func (p *Pool) Get(ctx context.Context, h Host) (*client.Client, error) {
	p.mu.Lock()
	e, ok := p.conns[h.Name]
	if !ok {
		e = &poolEntry{}
		p.conns[h.Name] = e
	}
	p.mu.Unlock()
	e.once.Do(func() { e.c, e.err = p.dialer.Dial(ctx, h) })
	return e.c, e.err
}

// Close closes every client; the pool must not be used afterwards.
func (p *Pool) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var first error
	for name, e := range p.conns {
		if e.c != nil {
			if err := e.c.Close(); err != nil && first == nil {
				first = err
			}
		}
		delete(p.conns, name)
	}
	return first
}
