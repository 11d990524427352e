package watch

import (
	"encoding/binary"
	"errors"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/bpf"
)

// The socket filters keep the events of processes and drop those of
// threads and the event types the producer ignores; the fork socket's
// passes the forks alone, the waited-on socket's everything else.
func TestEventFilter(t *testing.T) {
	datagram := func(what uint32, data ...uint32) []byte {
		b := make([]byte, offData+24)
		ne := binary.NativeEndian
		ne.PutUint32(b[offWhat:], what)
		for i, d := range data {
			ne.PutUint32(b[offData+4*i:], d)
		}
		return b
	}
	type keep struct{ single, waited, forks bool }
	for _, tc := range []struct {
		name string
		pkt  []byte
		keep keep
	}{
		{"fork of a process", datagram(procEventFork, 1, 1, 200, 200), keep{true, false, true}},
		{"fork of a thread", datagram(procEventFork, 1, 1, 201, 200), keep{}},
		{"exec", datagram(procEventExec, 200, 200), keep{true, true, false}},
		{"exec of a thread", datagram(procEventExec, 201, 200), keep{}},
		{"exit of a process", datagram(procEventExit, 200, 200, 0, 17), keep{true, true, false}},
		{"exit of a thread", datagram(procEventExit, 201, 200, 0, 17), keep{}},
		{"subscription ack", datagram(procEventNone, 0), keep{true, true, false}},
		{"uid change", datagram(0x4, 200, 200, 0, 0), keep{}},
		{"comm change", datagram(0x200, 200, 200), keep{}},
		{"truncated", make([]byte, offWhat+2), keep{}},
	} {
		for _, f := range []struct {
			name          string
			forks, others bool
			want          bool
		}{
			{"single socket", true, true, tc.keep.single},
			{"waited-on socket", false, true, tc.keep.waited},
			{"fork socket", true, false, tc.keep.forks},
		} {
			vm, err := bpf.NewVM(eventFilter(f.forks, f.others))
			if err != nil {
				t.Fatal(err)
			}
			n, err := vm.Run(tc.pkt)
			if err != nil {
				t.Fatalf("%s, %s: %v", tc.name, f.name, err)
			}
			if (n != 0) != f.want {
				t.Errorf("%s, %s: kept %v, want %v", tc.name, f.name, n != 0, f.want)
			}
		}
	}
}

// A fork already gone (exec'd, then unreadable) waits for its exit event:
// it sets no deadline, else every wait would end before reading anything
// and the exit would never be read (found by TestWatch1000SubscribersOverMTLS).
func TestConnectorDeadlineIgnoresGoneForks(t *testing.T) {
	t0 := time.Now()
	for _, tc := range []struct {
		name   string
		forked map[int32]forkInfo
		want   time.Time
	}{
		{"none", nil, time.Time{}},
		{"only gone", map[int32]forkInfo{1: {seen: t0.Add(-time.Hour), gone: true}}, time.Time{}},
		{"gone and pending", map[int32]forkInfo{1: {seen: t0.Add(-time.Hour), gone: true}, 2: {seen: t0}, 3: {seen: t0.Add(time.Second)}}, t0.Add(forkGrace)},
	} {
		c := &connector{forked: tc.forked}
		if got := c.deadline(); !got.Equal(tc.want) {
			t.Errorf("%s: deadline %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestGraceNudgeEndsTheRead: once a pending fork's grace is due, the nudge
// ends the connector's blocked read (a deadline in the past), so the fork is
// announced without a read deadline armed per fork.
func TestGraceNudgeEndsTheRead(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = r.Close(); _ = w.Close() }()
	c := &connector{f: r, forkFD: -1}
	var due atomic.Int64
	done := make(chan struct{})
	defer close(done)
	go c.graceNudge(&due, done)

	due.Store(time.Now().UnixNano())
	start := time.Now()
	if _, err := r.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read = %v, want the nudge's deadline", err)
	}
	t.Logf("nudged after %v (ticker period %v)", time.Since(start).Round(time.Millisecond), graceTick)
}
