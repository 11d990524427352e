package main

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/remotectl/remotectl/client"
	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
)

func TestServiceFilterFlags(t *testing.T) {
	for _, tc := range []struct {
		name   string
		glob   string
		states []string
		want   []pb.ServiceState
		err    string
	}{
		{name: "none"},
		{name: "glob and states", glob: "ssh*", states: []string{"running", " Failed "},
			want: []pb.ServiceState{pb.ServiceState_SERVICE_STATE_RUNNING, pb.ServiceState_SERVICE_STATE_FAILED}},
		{name: "bad glob", glob: "[x", err: `invalid --name glob "[x"`},
		{name: "bad state", states: []string{"asleep"}, err: `invalid --state "asleep"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := serviceFilter(tc.glob, tc.states)
			if tc.err != "" {
				var ue *usageError
				if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want usage error containing %q", err, tc.err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestWaitHelpFromTheContract(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{{30 * time.Second, "30s"}, {10 * time.Minute, "10m"}, {90 * time.Second, "1m30s"}, {time.Hour, "1h"}, {90 * time.Minute, "1h30m"}} {
		if got := shortDuration(tc.d); got != tc.want {
			t.Errorf("shortDuration(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
	if want := "at most 10m (default: the agent's, 30s)"; waitLimits != want {
		t.Errorf("waitLimits = %q, want %q", waitLimits, want)
	}
	if got := (&app{}).newKillCmd().Flag("wait").Usage; !strings.Contains(got, "at most 10m") {
		t.Errorf("kill --wait help = %q, want the agent's maximum (10m)", got)
	}
}

// TestDocsStateTheWaitContract keeps docs/cli.md's figures for --wait in
// step with their one definition (server/service, through the client).
func TestDocsStateTheWaitContract(t *testing.T) {
	b, err := os.ReadFile("../../docs/cli.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		fmt.Sprintf("the agent's default of %d s", int(client.DefaultControlWait.Seconds())),
		fmt.Sprintf("above the agent's maximum (%s)", shortDuration(client.MaxControlWait)),
		fmt.Sprintf("default, %d s; at most %d minutes", int(client.DefaultControlWait.Seconds()), int(client.MaxControlWait.Minutes())),
	} {
		if !strings.Contains(strings.Join(strings.Fields(string(b)), " "), want) {
			t.Errorf("docs/cli.md does not say %q", want)
		}
	}
}
