package main

import (
	"fmt"
	"strings"

	"github.com/remotectl/remotectl/client"
	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
)

// killView is one result of `ctl kill -o json`.
type killView struct {
	PID       int32    `json:"pid"`
	StartTime string   `json:"start_time,omitempty"`
	Name      string   `json:"name,omitempty"`
	User      string   `json:"user,omitempty"`
	Args      []string `json:"args,omitempty"`
	Signal    string   `json:"signal"`
	Exited    bool     `json:"exited"`
	ExitCode  *int32   `json:"exit_code,omitempty"`
	// ExitSignal is the name of the signal that ended the process, or its
	// number when it has no portable name.
	ExitSignal    string  `json:"exit_signal,omitempty"`
	WaitedSeconds float64 `json:"waited_seconds"`
}

func newKillView(pid int32, opts client.SignalOptions, r *pb.SignalProcessResponse) killView {
	p := r.GetProcess()
	v := killView{PID: pid, StartTime: timeString(p.GetStartTime()), Name: p.GetName(), User: p.GetUser(), Args: p.GetArgs(),
		Signal: signalName(opts.Signal), Exited: r.GetExited(), ExitCode: r.ExitCode, WaitedSeconds: seconds(r.GetWaited())}
	if r.ExitSignalNumber != nil {
		v.ExitSignal = nameOr(processSignalNames, r.GetExitSignal())
		if v.ExitSignal == "unknown" {
			v.ExitSignal = fmt.Sprintf("%d", r.GetExitSignalNumber())
		}
	}
	return v
}

// killLine is the one-line outcome: "4242 (sleep): TERM sent; exited
// (killed by TERM) after 3ms".
func killLine(v killView) string {
	who := fmt.Sprintf("%d", v.PID)
	if v.Name != "" {
		who += " (" + clean(v.Name) + ")"
	}
	var how []string
	switch {
	case !v.Exited && v.WaitedSeconds == 0:
		how = append(how, "not waited for")
	case !v.Exited:
		how = append(how, fmt.Sprintf("still running after %s", humanSeconds(v.WaitedSeconds)))
	case v.ExitSignal != "":
		how = append(how, fmt.Sprintf("exited (killed by %s) after %s", v.ExitSignal, humanSeconds(v.WaitedSeconds)))
	case v.ExitCode != nil:
		how = append(how, fmt.Sprintf("exited (code %d) after %s", *v.ExitCode, humanSeconds(v.WaitedSeconds)))
	default:
		how = append(how, fmt.Sprintf("exited (status unknown to the agent) after %s", humanSeconds(v.WaitedSeconds)))
	}
	return fmt.Sprintf("%s: %s sent; %s", who, v.Signal, strings.Join(how, ", "))
}

func humanSeconds(s float64) string {
	if s < 1 {
		return fmt.Sprintf("%.0fms", s*1000)
	}
	return fmt.Sprintf("%.1fs", s)
}
