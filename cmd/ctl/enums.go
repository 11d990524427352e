package main

import (
	"maps"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
)

// Enum spellings follow one rule, the wire enum's own value names without
// the enum's prefix: PROCESS_STATUS_DISK_SLEEP is disk_sleep,
// SERVICE_START_TYPE_AUTOMATIC_DELAYED automatic_delayed; event types and
// signals keep upper case (EXISTING, TERM), as in the API and kill -l.
// Anything unset or newer than this ctl is "unknown" ("UNKNOWN"). The agent
// spells service states and start types the same way (server/service,
// pinned by server/contract_test.go), so its audit records read alike.
var (
	processStatusNames    = wireNames[pb.ProcessStatus](false)
	serviceStateNames     = wireNames[pb.ServiceState](false)
	startTypeNames        = wireNames[pb.ServiceStartType](false)
	eventTypeNames        = wireNames[pb.ProcessEventType](true)
	serviceEventTypeNames = wireNames[pb.ServiceEventType](true)
	processSignalNames    = wireNames[pb.ProcessSignal](true)
)

// wireEnum is a generated proto enum type.
type wireEnum interface {
	~int32
	Descriptor() protoreflect.EnumDescriptor
}

// wireNames spells every value of E but the zero one (<PREFIX>UNSPECIFIED)
// by the rule above.
func wireNames[E wireEnum](upper bool) map[E]string {
	var zero E
	values := zero.Descriptor().Values()
	prefix := strings.TrimSuffix(string(values.ByNumber(0).Name()), "UNSPECIFIED")
	m := make(map[E]string, values.Len())
	for i := range values.Len() {
		v := values.Get(i)
		if v.Number() == 0 {
			continue
		}
		n := strings.TrimPrefix(string(v.Name()), prefix)
		if !upper {
			n = strings.ToLower(n)
		}
		m[E(v.Number())] = n
	}
	return m
}

// wireList is the names of m in wire order, for help texts and errors.
func wireList[E wireEnum](m map[E]string) []string {
	keys := slices.Sorted(maps.Keys(m))
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = m[k]
	}
	return out
}

// orList joins names as "a, b or c".
func orList(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

func processStatusName(s pb.ProcessStatus) string { return nameOr(processStatusNames, s) }

func serviceStateName(s pb.ServiceState) string { return nameOr(serviceStateNames, s) }

func startTypeName(t pb.ServiceStartType) string { return nameOr(startTypeNames, t) }

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
