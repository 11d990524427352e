// Package testutil holds the waiting and pacing the tests of several packages
// share. Tests wait on events (channels, streams, notifications); these are
// for the few places where no event exists, and they say so by their names.
package testutil

import (
	"testing"
	"time"
)

// pollEvery is how often Eventually checks its condition.
const pollEvery = 10 * time.Millisecond

// Eventually checks cond every 10 ms until it holds, failing the test if it
// still does not after within. Use it only where nothing announces the
// change: another process's file, a port the kernel frees, a metric read
// over HTTP, a child's state in /proc. Anything a channel or stream reports
// is waited for on that channel.
func Eventually(tb testing.TB, within time.Duration, what string, cond func() bool) {
	tb.Helper()
	if !Poll(within, cond) {
		tb.Fatalf("not within %v: %s", within, what)
	}
}

// Poll is Eventually without the test: it reports whether cond held within
// the bound, for callers that want their own failure message.
func Poll(within time.Duration, cond func() bool) bool {
	if cond() {
		return true
	}
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			if cond() {
				return true
			}
		case <-deadline.C:
			return cond()
		}
	}
}

// Window lets d pass on purpose: a measurement window (the CPU a daemon uses
// over d), an outage (an agent kept down for d), simulated latency or work,
// the lifetime of an idle helper child. It is not a wait for an event:
// nothing it ends is announced by anything else.
func Window(d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	<-t.C
}

// Pacer paces a load generator at a fixed rate (N processes or lines per
// second): Wait returns at the next tick. A late caller catches up, as a
// ticker drops the ticks it missed.
type Pacer struct{ t *time.Ticker }

// NewPacer ticks every interval; Stop it when the load ends.
func NewPacer(interval time.Duration) *Pacer { return &Pacer{t: time.NewTicker(interval)} }

// Wait blocks until the next tick.
func (p *Pacer) Wait() { <-p.t.C }

// Stop ends the ticks.
func (p *Pacer) Stop() { p.t.Stop() }
