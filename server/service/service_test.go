package service

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/remotectl/remotectl/internal/errdefs"
)

func TestValidateName(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"ssh", true},
		{"ssh.service", true},
		{"getty@tty1.service", true},
		{"Print Spooler", true}, // portable rules allow spaces; backends may not
		{"dienst-ü", true},
		{strings.Repeat("a", MaxNameLen), true},
		{"", false},
		{strings.Repeat("a", MaxNameLen+1), false},
		{"../x", false},
		{"a/b", false},
		{"-x", false},
		{"a\x00b", false},
		{"a\nb", false},
		{"a\tb", false},
		{"\x7f", false},
		{"\xff\xfe", false},
	} {
		err := ValidateName(tc.name)
		if tc.ok && err != nil {
			t.Errorf("ValidateName(%q) = %v, want nil", tc.name, err)
		}
		if !tc.ok && !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("ValidateName(%q) = %v, want ErrInvalidArgument", tc.name, err)
		}
	}
}

// TestTimeoutRule pins the one wait rule: zero is DefaultTimeout, negative
// and above MaxTimeout are refused (not clamped), the rest is used as given.
func TestTimeoutRule(t *testing.T) {
	for _, tc := range []struct {
		in, want time.Duration
		ok       bool
	}{
		{0, DefaultTimeout, true},
		{time.Millisecond, time.Millisecond, true},
		{MaxTimeout, MaxTimeout, true},
		{-time.Second, DefaultTimeout, false},
		{MaxTimeout + 1, MaxTimeout, false},
		{24 * time.Hour, MaxTimeout, false},
	} {
		err := ControlOptions{Timeout: tc.in}.Validate()
		if tc.ok != (err == nil) || (err != nil && !errors.Is(err, errdefs.ErrInvalidArgument)) {
			t.Errorf("Validate(%v) = %v, want ok=%v", tc.in, err, tc.ok)
		}
		if got := EffectiveTimeout(tc.in); got != tc.want {
			t.Errorf("EffectiveTimeout(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestFilterValidate(t *testing.T) {
	for _, tc := range []struct {
		f  Filter
		ok bool
	}{
		{Filter{}, true},
		{Filter{NameGlob: "ssh*"}, true},
		{Filter{NameGlob: "[a-z]*.service"}, true},
		{Filter{States: []State{StateUnknown, StateRunning, StateReloading}}, true},
		{Filter{NameGlob: "["}, false},
		{Filter{NameGlob: "abc[x"}, false},
		{Filter{NameGlob: `x\`}, false},
		{Filter{States: []State{StateRunning, State(99)}}, false},
		{Filter{States: []State{-1}}, false},
		{Filter{NameGlob: strings.Repeat("*", MaxNameLen)}, true},
		{Filter{NameGlob: strings.Repeat("*", MaxNameLen+1)}, false},
	} {
		err := tc.f.Validate()
		if tc.ok && err != nil {
			t.Errorf("%+v: %v, want nil", tc.f, err)
		}
		if !tc.ok && !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("%+v: %v, want ErrInvalidArgument", tc.f, err)
		}
	}
}

func TestFilterMatch(t *testing.T) {
	ssh := Service{Name: "ssh.service", DisplayName: "ssh", State: StateRunning}
	spooler := Service{Name: "Spooler", DisplayName: "Print Spooler", State: StateStopped}
	for _, tc := range []struct {
		f    Filter
		s    Service
		want bool
	}{
		{Filter{}, ssh, true},
		{Filter{NameGlob: "ssh*"}, ssh, true},
		{Filter{NameGlob: "ssh"}, ssh, true}, // via DisplayName
		{Filter{NameGlob: "ssh.service"}, ssh, true},
		{Filter{NameGlob: "*.socket"}, ssh, false},
		{Filter{NameGlob: "Print*"}, spooler, true},
		{Filter{NameGlob: "spool*"}, spooler, false}, // case-sensitive
		{Filter{States: []State{StateRunning}}, ssh, true},
		{Filter{States: []State{StateStopped, StateFailed}}, ssh, false},
		{Filter{NameGlob: "ssh*", States: []State{StateStopped}}, ssh, false},
		{Filter{NameGlob: "["}, ssh, false},
		{Filter{NameGlob: "x"}, Service{Name: "y"}, false}, // empty DisplayName
	} {
		if got := tc.f.Match(tc.s); got != tc.want {
			t.Errorf("%+v.Match(%s) = %v, want %v", tc.f, tc.s.Name, got, tc.want)
		}
	}
}

func TestStateNames(t *testing.T) {
	for s := StateUnknown; s <= StateReloading; s++ {
		if !s.Known() || s.String() == "" {
			t.Errorf("state %d: Known=%v String=%q", int(s), s.Known(), s.String())
		}
	}
	if State(42).Known() {
		t.Error("State(42) is known")
	}
}
