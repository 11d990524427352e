package watch

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/remotectl/remotectl/server/process"
	"github.com/remotectl/remotectl/server/watch/hub"
)

// A thousand subscribers come and go while events flow; once they and the
// engine are gone, so are all their goroutines.
func TestNoGoroutineLeakAfter1000Subscribers(t *testing.T) {
	defer goleak.VerifyNone(t)
	e := NewEngine(Config{Lister: process.NewLister(), Interval: 50 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	var wg, flowing sync.WaitGroup
	for i := range 1000 {
		existing := i%2 == 0
		s, err := e.Watch(ctx, Options{StreamOptions: hub.StreamOptions{IncludeExisting: existing}})
		if err != nil {
			t.Fatal(err)
		}
		if existing {
			flowing.Add(1)
		}
		wg.Go(func() {
			defer s.Close()
			for first := existing; ; first = false {
				if _, err := s.Next(ctx); err != nil {
					if first {
						flowing.Done()
					}
					return
				}
				if first {
					flowing.Done()
				}
			}
		})
	}
	if n := e.Subscribers(); n != 1000 {
		t.Fatalf("%d subscribers, want 1000", n)
	}
	flowing.Wait() // every snapshot subscriber has had an event
	cancel()
	wg.Wait()
	if n := e.Subscribers(); n != 0 {
		t.Fatalf("%d subscribers left", n)
	}
	e.Close()
}
