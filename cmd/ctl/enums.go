package main

import (
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
	"github.com/remotectl/remotectl/server/service"
)

// Enum spellings: short, lower case (event types upper case, as in the
// API), and "unknown" for anything unset or newer than this ctl.

var processStatusNames = map[pb.ProcessStatus]string{
	pb.ProcessStatus_PROCESS_STATUS_RUNNING:    "running",
	pb.ProcessStatus_PROCESS_STATUS_SLEEPING:   "sleeping",
	pb.ProcessStatus_PROCESS_STATUS_DISK_SLEEP: "disk_sleep",
	pb.ProcessStatus_PROCESS_STATUS_STOPPED:    "stopped",
	pb.ProcessStatus_PROCESS_STATUS_ZOMBIE:     "zombie",
	pb.ProcessStatus_PROCESS_STATUS_IDLE:       "idle",
	pb.ProcessStatus_PROCESS_STATUS_DEAD:       "dead",
}

func processStatusName(s pb.ProcessStatus) string { return nameOr(processStatusNames, s) }

// processStatusLetters are ps(1)'s one-letter states for the S column.
var processStatusLetters = map[pb.ProcessStatus]string{
	pb.ProcessStatus_PROCESS_STATUS_RUNNING:    "R",
	pb.ProcessStatus_PROCESS_STATUS_SLEEPING:   "S",
	pb.ProcessStatus_PROCESS_STATUS_DISK_SLEEP: "D",
	pb.ProcessStatus_PROCESS_STATUS_STOPPED:    "T",
	pb.ProcessStatus_PROCESS_STATUS_ZOMBIE:     "Z",
	pb.ProcessStatus_PROCESS_STATUS_IDLE:       "I",
	pb.ProcessStatus_PROCESS_STATUS_DEAD:       "X",
}

// serviceStateNames and startTypeNames are the agent's own spellings
// (server/service State.String and StartType.String), keyed by the wire
// value, which equals the domain's number (server/contract_test.go).
var (
	serviceStateNames = wireNames[pb.ServiceState](func(s service.State) bool { return s.Known() })
	startTypeNames    = wireNames[pb.ServiceStartType](func(t service.StartType) bool { return service.ValidStartType(t) == nil })
)

// wireNames maps the wire values of a domain enum to their spellings, for
// every value from 1 on that known accepts.
func wireNames[W ~int32, D interface {
	~int
	String() string
}](known func(D) bool) map[W]string {
	m := map[W]string{}
	for d := D(1); known(d); d++ {
		m[W(d)] = d.String()
	}
	return m
}

func serviceStateName(s pb.ServiceState) string { return nameOr(serviceStateNames, s) }

func startTypeName(t pb.ServiceStartType) string { return nameOr(startTypeNames, t) }

var eventTypeNames = map[pb.ProcessEventType]string{
	pb.ProcessEventType_PROCESS_EVENT_TYPE_EXISTING: "EXISTING",
	pb.ProcessEventType_PROCESS_EVENT_TYPE_SYNCED:   "SYNCED",
	pb.ProcessEventType_PROCESS_EVENT_TYPE_STARTED:  "STARTED",
	pb.ProcessEventType_PROCESS_EVENT_TYPE_EXITED:   "EXITED",
	pb.ProcessEventType_PROCESS_EVENT_TYPE_RESYNC:   "RESYNC",
	pb.ProcessEventType_PROCESS_EVENT_TYPE_EXEC:     "EXEC",
}

func eventTypeName(t pb.ProcessEventType) string {
	if n, ok := eventTypeNames[t]; ok {
		return n
	}
	return "UNKNOWN"
}

func nameOr[K comparable](m map[K]string, k K) string {
	if n, ok := m[k]; ok {
		return n
	}
	return "unknown"
}

// parseServiceState is the inverse of serviceStateName for --state.
func parseServiceState(s string) (pb.ServiceState, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	for k, n := range serviceStateNames {
		if n == s {
			return k, true
		}
	}
	return 0, false
}

// timeString is RFC 3339 in UTC with nanoseconds where the source has
// them; "" for an unset timestamp (and the key is then omitted).
func timeString(ts *timestamppb.Timestamp) string {
	if ts == nil {
		return ""
	}
	return ts.AsTime().UTC().Format(time.RFC3339Nano)
}

func seconds(d *durationpb.Duration) float64 {
	if d == nil {
		return 0
	}
	return d.AsDuration().Seconds()
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
