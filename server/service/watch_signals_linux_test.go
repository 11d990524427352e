package service

import (
	"testing"

	"github.com/godbus/dbus/v5"
)

func TestSignalQueueKeepsOrderAndFlagsOverflow(t *testing.T) {
	q := newSignalQueue(3)
	for i := range 3 {
		q.DeliverSignal("", "", &dbus.Signal{Sequence: dbus.Sequence(i)})
	}
	got, ov := q.take()
	if ov || len(got) != 3 || got[0].Sequence != 0 || got[2].Sequence != 2 {
		t.Fatalf("take = %v overflow %v, want 3 signals in order", got, ov)
	}
	for i := range 4 {
		q.DeliverSignal("", "", &dbus.Signal{Sequence: dbus.Sequence(i)})
	}
	if got, ov = q.take(); !ov || len(got) != 0 {
		t.Fatalf("after 4 into 3: %d signals, overflow %v; want none and overflow", len(got), ov)
	}
	if _, ov = q.take(); ov {
		t.Fatal("overflow flag not reset by take")
	}
	q.Terminate()
	q.Terminate() // idempotent
	q.DeliverSignal("", "", &dbus.Signal{})
	if got, _ = q.take(); len(got) != 0 {
		t.Fatal("delivered after Terminate")
	}
	select {
	case <-q.done:
	default:
		t.Fatal("done not closed by Terminate")
	}
}
