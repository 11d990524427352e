package server

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"

	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
	"github.com/remotectl/remotectl/server/process"
	"github.com/remotectl/remotectl/server/service"
	"github.com/remotectl/remotectl/server/watch"
)

// The pairs of domain and wire enums, each derived from the two spellings
// rather than written out: a domain value pairs with the wire value of its
// name (see pairEnums). enums_test.go proves every pairing complete both ways.
var (
	fieldPairs            = pairEnums[process.Field, pb.ProcessField](process.FieldsAll.Bits()...)
	statusPairs           = pairEnums[process.Status, pb.ProcessStatus](process.Statuses()...)
	signalPairs           = pairEnums[process.Signal, pb.ProcessSignal](process.Signals...)
	eventTypePairs        = pairEnums[watch.EventType, pb.ProcessEventType](watch.EventTypes()...)
	serviceStatePairs     = pairEnums[service.State, pb.ServiceState](service.States()...)
	startTypePairs        = pairEnums[service.StartType, pb.ServiceStartType](service.StartTypes()...)
	serviceEventTypePairs = pairEnums[service.EventType, pb.ServiceEventType](service.EventTypes()...)
)

// protoEnum is a generated proto enum type.
type protoEnum interface {
	~int32
	Descriptor() protoreflect.EnumDescriptor
}

// domainEnum is a domain enum type that spells its values.
type domainEnum interface {
	comparable
	fmt.Stringer
}

// enumPairs maps a domain enum D to its wire enum P and back. The zero
// values (unknown, UNSPECIFIED) pair with each other and are in neither
// map, so a lookup that misses yields them.
type enumPairs[D domainEnum, P protoEnum] struct {
	toProto   map[D]P
	fromProto map[P]D
	// unpaired holds the domain values no wire value spells (enums_test.go
	// fails on them: the proto lacks a value, or the spellings diverge).
	unpaired []D
}

// pairEnums pairs each of values with the wire value named by the rule
// ctl spells wire values by (cmd/ctl/enums.go): the domain value spelled
// "disk_sleep" is <PREFIX>DISK_SLEEP, where <PREFIX>UNSPECIFIED is the
// wire enum's zero value.
func pairEnums[D domainEnum, P protoEnum](values ...D) enumPairs[D, P] {
	var zeroD D
	var zeroP P
	wire := zeroP.Descriptor().Values()
	prefix := strings.TrimSuffix(string(wire.ByNumber(0).Name()), "UNSPECIFIED")
	e := enumPairs[D, P]{toProto: make(map[D]P, len(values)), fromProto: make(map[P]D, len(values))}
	for _, d := range values {
		if d == zeroD {
			continue
		}
		v := wire.ByName(protoreflect.Name(prefix + strings.ToUpper(d.String())))
		if v == nil {
			e.unpaired = append(e.unpaired, d)
			continue
		}
		p := P(v.Number())
		e.toProto[d], e.fromProto[p] = p, d
	}
	return e
}
