package watch

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/remotectl/remotectl/server/process"
)

// A thousand subscribers come and go while events flow; once they and the
// engine are gone, so are all their goroutines.
func TestNoGoroutineLeakAfter1000Subscribers(t *testing.T) {
	defer goleak.VerifyNone(t)
	e := NewEngine(Config{Lister: process.NewLister(), Interval: 50 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i := range 1000 {
		s, err := e.Watch(ctx, Options{IncludeExisting: i%2 == 0})
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			defer s.Close()
			for {
				if _, err := s.Next(ctx); err != nil {
					return
				}
			}
		})
	}
	if n := e.Subscribers(); n != 1000 {
		t.Fatalf("%d subscribers, want 1000", n)
	}
	time.Sleep(100 * time.Millisecond)
	cancel()
	wg.Wait()
	if n := e.Subscribers(); n != 0 {
		t.Fatalf("%d subscribers left", n)
	}
	e.Close()
}
