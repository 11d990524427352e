package main

import (
	"slices"
	"testing"

	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
)

// TestWireNames pins the spellings scripts read (docs/cli.md): one rule,
// the wire value name without the enum's prefix.
func TestWireNames(t *testing.T) {
	for _, tc := range []struct {
		name string
		got  []string
		want []string
	}{
		{"process status", wireList(processStatusNames), []string{"running", "sleeping", "disk_sleep", "stopped", "zombie", "idle", "dead"}},
		{"service state", wireList(serviceStateNames), []string{"running", "stopped", "starting", "stopping", "failed", "paused", "reloading"}},
		{"start type", wireList(startTypeNames), []string{"automatic", "automatic_delayed", "manual", "disabled"}},
		{"process event", wireList(eventTypeNames), []string{"EXISTING", "SYNCED", "STARTED", "EXITED", "RESYNC", "EXEC"}},
		{"service event", wireList(serviceEventTypeNames), []string{"EXISTING", "SYNCED", "CHANGED", "RESYNC"}},
		{"signal", wireList(processSignalNames), []string{"TERM", "KILL", "INT", "HUP", "QUIT", "USR1", "USR2", "STOP", "CONT"}},
		{"field", wireList(wireNames[pb.ProcessField](false)), []string{"name", "exe", "args", "user", "status", "cpu", "memory", "threads"}},
	} {
		if !slices.Equal(tc.got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.name, tc.got, tc.want)
		}
	}
	for _, tc := range []struct{ got, want string }{
		{serviceStateName(0), "unknown"},
		{serviceStateName(99), "unknown"},
		{startTypeName(pb.ServiceStartType_SERVICE_START_TYPE_AUTOMATIC_DELAYED), "automatic_delayed"},
		{eventTypeName(0), "UNKNOWN"},
		{orList([]string{"a", "b", "c"}), "a, b or c"},
		{orList([]string{"a"}), "a"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
