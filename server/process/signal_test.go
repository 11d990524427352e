package process

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/remotectl/remotectl/internal/errdefs"
)

func TestSignalNames(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range Signals {
		n := s.String()
		if n == "" || strings.HasPrefix(n, "signal(") || seen[n] {
			t.Errorf("signal %d has name %q", s, n)
		}
		seen[n] = true
	}
	if got := Signal(99).String(); got != "signal(99)" {
		t.Errorf("unknown signal prints %q", got)
	}
}

func TestSignalRequestValidate(t *testing.T) {
	start := time.Unix(1700000000, 0)
	cases := []struct {
		name string
		r    SignalRequest
		want string // "" = valid
	}{
		{"valid", SignalRequest{Target: Key{PID: 10, StartTime: start}, Signal: SignalTerm}, ""},
		{"max wait", SignalRequest{Target: Key{PID: 10, StartTime: start}, Signal: SignalKill, Wait: MaxSignalWait}, ""},
		{"zero pid", SignalRequest{Target: Key{StartTime: start}, Signal: SignalTerm}, "pid 0"},
		{"negative pid", SignalRequest{Target: Key{PID: -1, StartTime: start}, Signal: SignalTerm}, "pid -1"},
		{"no start time", SignalRequest{Target: Key{PID: 10}, Signal: SignalTerm}, "start time is required"},
		{"no signal", SignalRequest{Target: Key{PID: 10, StartTime: start}}, "unknown signal"},
		{"bad signal", SignalRequest{Target: Key{PID: 10, StartTime: start}, Signal: 99}, "unknown signal"},
		{"negative wait", SignalRequest{Target: Key{PID: 10, StartTime: start}, Signal: SignalTerm, Wait: -1}, "wait"},
		{"long wait", SignalRequest{Target: Key{PID: 10, StartTime: start}, Signal: SignalTerm, Wait: MaxSignalWait + 1}, "wait"},
	}
	for _, c := range cases {
		err := c.r.Validate()
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (!errors.Is(err, errdefs.ErrInvalidArgument) || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: %v; want invalid argument mentioning %q", c.name, err, c.want)
		}
	}
}

func TestProtectionRules(t *testing.T) {
	pr := Protection{Self: 500, Parent: 400, KernelThread: func(pid int32) bool { return pid == 2 || pid == 33 }}
	cases := []struct {
		pid  int32
		want string // "" = not protected
	}{
		{1, "pid 1 (init)"},
		{2, "kernel thread"},
		{33, "kernel thread"},
		{500, "ctld itself"},
		{400, "ctld's parent"},
		{4242, ""},
	}
	if systemPIDName(0) != "" {
		cases = append(cases, struct {
			pid  int32
			want string
		}{0, "operating system's"})
	}
	for _, c := range cases {
		got := pr.Rule(Process{PID: c.pid})
		if c.want == "" && got != "" || c.want != "" && !strings.Contains(got, c.want) {
			t.Errorf("pid %d: rule %q, want %q", c.pid, got, c.want)
		}
	}
	// A ctld started by init has pid 1 as parent: still "init", not "parent".
	if got := (Protection{Self: 9, Parent: 1}).Rule(Process{PID: 1}); !strings.Contains(got, "init") {
		t.Errorf("parent 1: %q", got)
	}
}

func TestSameStartAtResolution(t *testing.T) {
	base := time.Unix(1700000000, 0)
	if !sameStart(base.Add(3*time.Millisecond), base.Add(7*time.Millisecond), 10*time.Millisecond) {
		t.Error("times within one tick must match")
	}
	if sameStart(base, base.Add(10*time.Millisecond), 10*time.Millisecond) {
		t.Error("times one tick apart must not match")
	}
	if sameStart(base, base.Add(100*time.Nanosecond), 100*time.Nanosecond) {
		t.Error("Windows: 100 ns apart must not match")
	}
}
