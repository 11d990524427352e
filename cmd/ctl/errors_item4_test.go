package main

import (
	"net"
	"strings"
	"testing"
	"time"
)

// A host name that does not resolve: the resolver's answer, not gRPC's
// "produced zero addresses".
func TestE2EUnresolvableHost(t *testing.T) {
	p := newTestPKI(t)
	r := runCtl(ctxTimeout(t, 30*time.Second), t, nil, append(p.tlsArgs(), "--host", "remotectl-no-such-host.invalid:7443", "ps")...)
	if r.code != exitUnavailable || !strings.Contains(r.stderr, "cannot resolve the agent's host name") ||
		strings.Contains(r.stderr, "produced zero addresses") || strings.Contains(r.stderr, "resolver") {
		t.Fatalf("exit %d stderr %q", r.code, r.stderr)
	}
}

// An agent that accepts TCP but never answers the handshake: the call's own
// deadline (--timeout 1s, connect and call together), exit 6, and a line that
// names the connection rather than gRPC's transport deadline.
func TestE2EHungAgent(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	held := make(chan net.Conn, 8)
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			held <- c // accepted, never answered
		}
	}()
	t.Cleanup(func() {
		_ = lis.Close()
		for len(held) > 0 {
			_ = (<-held).Close()
		}
	})
	p := newTestPKI(t)
	for _, args := range [][]string{{"heartbeat"}, {"ps"}} {
		start := time.Now()
		// t.Context has no deadline, as a real run's context: --timeout applies.
		r := runCtl(t.Context(), t, nil, append(append(p.tlsArgs(), "--host", lis.Addr().String(), "--timeout", "1s"), args...)...)
		took := time.Since(start)
		if r.code != exitTimeout || !strings.Contains(r.stderr, "no answer from the agent on "+lis.Addr().String()) {
			t.Errorf("%v: exit %d stderr %q", args, r.code, r.stderr)
		}
		if took > 1900*time.Millisecond {
			t.Errorf("%v with --timeout 1s took %s", args, took)
		}
	}
}

func TestCommandOf(t *testing.T) {
	name, exe := "ctld", "/usr/bin/ctld"
	zombie, sleeping := "zombie", "sleeping"
	for _, tc := range []struct {
		v    processView
		want string
	}{
		{processView{Name: &name, Args: []string{"ctld", "run"}}, "ctld run"},
		{processView{Name: &name, Args: []string{}, Exe: new(string)}, "[ctld]"},                            // kernel thread
		{processView{Name: &name, Args: []string{}, Exe: &exe, Status: &sleeping}, "ctld"},                  // argv empty, not a kthread
		{processView{Name: &name, Args: []string{}, Exe: new(string), Status: &zombie}, "[ctld] <defunct>"}, // zombie
		{processView{Name: &name}, "ctld"},                                                                  // args not read
		{processView{}, "-"},
	} {
		if got := commandOf(tc.v); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.v, got, tc.want)
		}
	}
}
