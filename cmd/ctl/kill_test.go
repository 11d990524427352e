package main

import (
	"testing"

	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
)

func TestKillAndStartTypeLines(t *testing.T) {
	code := int32(0)
	for _, c := range []struct {
		v    killView
		want string
	}{
		{killView{PID: 7, Name: "sleep", Signal: "TERM", Exited: true, ExitSignal: "TERM", WaitedSeconds: 0.002}, "7 (sleep): TERM sent; exited (killed by TERM) after 2ms"},
		{killView{PID: 7, Signal: "TERM", Exited: true, ExitCode: &code, WaitedSeconds: 1.5}, "7: TERM sent; exited (code 0) after 1.5s"},
		{killView{PID: 7, Signal: "HUP"}, "7: HUP sent; not waited for"},
		{killView{PID: 7, Signal: "TERM", WaitedSeconds: 5}, "7: TERM sent; still running after 5.0s"},
		{killView{PID: 7, Signal: "KILL", Exited: true, WaitedSeconds: 0.01}, "7: KILL sent; exited (status unknown to the agent) after 10ms"},
	} {
		if got := killLine(c.v); got != c.want {
			t.Errorf("killLine = %q, want %q", got, c.want)
		}
	}
	v := startTypeView{Service: serviceView{Name: "web.service", StartType: "manual", NativeStartType: "disabled", State: "stopped"},
		PreviousStartType: "automatic", PreviousNativeStartType: "enabled", PreviousState: "running", Changed: true}
	if got := startTypeLine(v, true); got != "web.service: startup automatic (enabled) -> manual (disabled); running -> stopped" {
		t.Errorf("startTypeLine = %q", got)
	}
	v.Changed = false
	if got := startTypeLine(v, false); got != "web.service: startup already manual (disabled) (no change)" {
		t.Errorf("startTypeLine = %q", got)
	}
	for _, n := range []string{"automatic", "automatic_delayed", "manual", "disabled"} {
		if st, ok := parseStartType(n); !ok || startTypeName(st) != n {
			t.Errorf("start type %q does not round-trip", n)
		}
	}
	if _, ok := parseSignal("sigusr1"); !ok {
		t.Error("SIG prefix and case must be accepted")
	}
	if pb.ProcessSignal_PROCESS_SIGNAL_CONT.String() == "" || signalList() != "TERM, KILL, INT, HUP, QUIT, USR1, USR2, STOP, CONT" {
		t.Errorf("signal list %q", signalList())
	}
}
