package process

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// fieldNames and statusNames spell the enums as the wire and ctl do (the
// wire value's name without its enum's prefix, lower case: disk_sleep);
// the gRPC adapter pairs domain and wire values by these spellings.
var (
	fieldNames = map[Field]string{
		FieldName: "name", FieldExe: "exe", FieldArgs: "args", FieldUser: "user",
		FieldStatus: "status", FieldCPU: "cpu", FieldMemory: "memory", FieldThreads: "threads",
	}
	statusNames = map[Status]string{
		StatusUnknown: "unknown", StatusRunning: "running", StatusSleeping: "sleeping",
		StatusDiskSleep: "disk_sleep", StatusStopped: "stopped", StatusZombie: "zombie",
		StatusIdle: "idle", StatusDead: "dead",
	}
)

// Bits lists the single fields of f, in bit order (the order of FieldsAll).
func (f Field) Bits() []Field {
	var out []Field
	for b := Field(1); b != 0 && b <= f; b <<= 1 {
		if f&b != 0 {
			out = append(out, b)
		}
	}
	return out
}

// String spells the fields of f comma-separated, in bit order ("name,exe").
func (f Field) String() string {
	bits := f.Bits()
	names := make([]string, len(bits))
	for i, b := range bits {
		if names[i] = fieldNames[b]; names[i] == "" {
			names[i] = fmt.Sprintf("field(%#x)", uint32(b))
		}
	}
	return strings.Join(names, ",")
}

func (s Status) String() string {
	if n, ok := statusNames[s]; ok {
		return n
	}
	return fmt.Sprintf("status(%d)", int(s))
}

// Statuses lists the statuses, StatusUnknown first.
func Statuses() []Status { return slices.Sorted(maps.Keys(statusNames)) }
