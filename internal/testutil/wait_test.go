package testutil

import (
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

func TestPollHoldsOrTimesOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var n atomic.Int32
		start := time.Now()
		if !Poll(time.Second, func() bool { return n.Add(1) == 5 }) {
			t.Fatal("condition true on the 5th check not seen")
		}
		if d := time.Since(start); d != 4*pollEvery {
			t.Fatalf("took %v, want 4 ticks", d)
		}
		start = time.Now()
		if Poll(time.Second, func() bool { return false }) {
			t.Fatal("false condition reported true")
		}
		if d := time.Since(start); d != time.Second {
			t.Fatalf("gave up after %v, want 1s", d)
		}
	})
}

func TestPacerTicks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := NewPacer(100 * time.Millisecond)
		defer p.Stop()
		start := time.Now()
		for range 3 {
			p.Wait()
		}
		if d := time.Since(start); d != 300*time.Millisecond {
			t.Fatalf("3 ticks took %v", d)
		}
		start = time.Now()
		Window(time.Minute)
		if d := time.Since(start); d != time.Minute {
			t.Fatalf("window of %v", d)
		}
	})
}
