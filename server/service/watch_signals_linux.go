package service

import (
	"sync"

	"github.com/godbus/dbus/v5"
)

// signalQueue is the watcher's godbus signal handler. godbus's default
// handler, once its channel is full, delivers from one goroutine per signal
// (out of order, without bound); this one keeps order, holds at most limit
// signals, and on overflow drops them all and flags it, so the watcher
// re-lists instead of guessing. godbus calls DeliverSignal from its reader
// goroutine, in bus order with method replies.
type signalQueue struct {
	limit int
	ready chan struct{} // has a value when q or overflow changed
	done  chan struct{} // closed when the connection terminates

	mu       sync.Mutex
	q        []*dbus.Signal
	overflow bool
	closed   bool
}

func newSignalQueue(limit int) *signalQueue {
	return &signalQueue{limit: limit, ready: make(chan struct{}, 1), done: make(chan struct{})}
}

// DeliverSignal implements dbus.SignalHandler.
func (s *signalQueue) DeliverSignal(_, _ string, sig *dbus.Signal) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	if len(s.q) >= s.limit {
		s.q, s.overflow = nil, true
	} else {
		s.q = append(s.q, sig)
	}
	s.mu.Unlock()
	select {
	case s.ready <- struct{}{}:
	default:
	}
}

// Terminate implements dbus.Terminator: godbus calls it when the connection closes.
func (s *signalQueue) Terminate() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		close(s.done)
	}
}

// take empties the queue, returning its signals and whether any were dropped.
func (s *signalQueue) take() ([]*dbus.Signal, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, ov := s.q, s.overflow
	s.q, s.overflow = nil, false
	return q, ov
}
