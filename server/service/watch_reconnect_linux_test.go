package service

import (
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	evhub "github.com/remotectl/remotectl/server/watch/hub"
)

// busProxy relays unix-socket connections to the real system bus, so a test
// can cut the watcher's D-Bus connection (and refuse new ones) without
// touching the bus everyone else uses.
type busProxy struct {
	lis    net.Listener
	target string

	mu       sync.Mutex
	conns    []net.Conn
	refused  bool
	refusals chan struct{} // one token per refused connection (dropped when full)
}

func newBusProxy(t *testing.T) *busProxy {
	t.Helper()
	target, ok := strings.CutPrefix(os.Getenv("DBUS_SYSTEM_BUS_ADDRESS"), "unix:path=")
	if !ok {
		t.Skip("the bus address is not a unix:path= socket")
	}
	lis, err := net.Listen("unix", filepath.Join(t.TempDir(), "bus"))
	if err != nil {
		t.Fatal(err)
	}
	p := &busProxy{lis: lis, target: target, refusals: make(chan struct{}, 1)}
	go p.serve()
	t.Cleanup(func() { lis.Close(); p.cut() })
	return p
}

func (p *busProxy) serve() {
	for {
		c, err := p.lis.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		refused := p.refused
		p.mu.Unlock()
		up, err := net.Dial("unix", p.target)
		if refused || err != nil {
			c.Close()
			if refused {
				select {
				case p.refusals <- struct{}{}:
				default:
				}
			}
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		go func() { _, _ = io.Copy(up, c); up.Close() }()
		go func() { _, _ = io.Copy(c, up); c.Close() }()
	}
}

// cut closes every relayed connection.
func (p *busProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *busProxy) refuse(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refused = on
}

// TestWatchSystemdReconnects cuts the watcher's bus connection, changes the
// unit while it is away, and expects the change reported after the
// reconnect (from the re-listing), then live signals again.
func TestWatchSystemdReconnects(t *testing.T) {
	m := watchHarness(t)
	ensure(t, m, watchUnit, false)
	proxy := newBusProxy(t)
	t.Setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path="+proxy.lis.Addr().String())
	w := NewWatcher()
	t.Cleanup(func() { w.Close() })
	ctx, cancel := context.WithCancel(testCtx(t))
	defer cancel()
	sub, err := w.Watch(ctx, WatchOptions{Filter: Filter{NameGlob: watchUnit}, StreamOptions: evhub.StreamOptions{IncludeExisting: true}})
	if err != nil {
		t.Fatal(err)
	}
	if ev := next(t, sub); ev.Type != EventExisting || ev.NewState != StateStopped {
		t.Fatalf("want EXISTING stopped, got %+v", ev)
	}
	next(t, sub) // SYNCED

	proxy.refuse(true)
	proxy.cut()
	ensure(t, m, watchUnit, true) // m has its own, direct connection
	// The watcher must have tried (and failed) to reconnect at least once.
	select {
	case <-proxy.refusals:
	case <-ctx.Done():
		t.Fatal("the watcher never tried to reconnect")
	}
	proxy.refuse(false)
	start := time.Now()
	ev := next(t, sub)
	if ev.Type != EventChanged || ev.OldState != StateStopped || ev.NewState != StateRunning || ev.MainPID <= 0 {
		t.Fatalf("after the reconnect: want CHANGED stopped -> running with a pid, got %+v", ev)
	}
	t.Logf("change made during the outage reported %v after the bus came back", time.Since(start).Round(time.Millisecond))

	ensure(t, m, watchUnit, false) // live signals flow again
	if down := until(t, sub, StateStopped); down[0].OldState != StateRunning || down[0].Seq <= ev.Seq {
		t.Fatalf("after the reconnect, stop events %+v", down)
	}
}
