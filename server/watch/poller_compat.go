package watch

import (
	"context"
	"sync"
	"time"

	"github.com/remotectl/remotectl/server/process"
)

// Poller is a ProcessWatcher that polls, for tests and embedders that build
// it as a literal: its Engine starts on the first Watch and runs for the
// life of the process. ctld uses NewEngine.
type Poller struct {
	Lister   process.Lister
	Interval time.Duration
	// MaxConsecutiveErrors ends the subscriptions after that many failed polls in a row.
	MaxConsecutiveErrors int

	once sync.Once
	e    *Engine
}

// Mode implements ProcessWatcher.
func (p *Poller) Mode() string { return "poll" }

// Watch implements ProcessWatcher.
func (p *Poller) Watch(ctx context.Context, opts Options) (Subscription, error) {
	p.once.Do(func() {
		p.e = NewEngine(Config{Lister: p.Lister, Interval: p.Interval, PollOnly: true, MaxConsecutiveErrors: p.MaxConsecutiveErrors})
	})
	return p.e.Watch(ctx, opts)
}
