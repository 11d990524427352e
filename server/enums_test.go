package server

import (
	"slices"
	"testing"

	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
	"github.com/remotectl/remotectl/server/process"
	"github.com/remotectl/remotectl/server/service"
	"github.com/remotectl/remotectl/server/watch"
)

// checkPairs proves e pairs every domain value of values with a distinct
// wire value and back, and every wire value but the zero one with a domain
// value.
func checkPairs[D domainEnum, P protoEnum](t *testing.T, e enumPairs[D, P], values []D) {
	t.Helper()
	if len(e.unpaired) > 0 {
		t.Errorf("domain values with no wire value of their spelling: %v (add them to the proto, or align the spellings)", e.unpaired)
	}
	var zero D
	for _, d := range values {
		if d == zero {
			continue
		}
		p, ok := e.toProto[d]
		if !ok || p == 0 {
			t.Errorf("%v: no wire value", d)
			continue
		}
		if back := e.fromProto[p]; back != d {
			t.Errorf("%v -> %v -> %v, want it back", d, p, back)
		}
	}
	if len(e.fromProto) != len(e.toProto) {
		t.Errorf("%d domain values share %d wire values", len(e.toProto), len(e.fromProto))
	}
	var zp P
	wire := zp.Descriptor().Values()
	for i := range wire.Len() {
		v := wire.Get(i)
		if _, ok := e.fromProto[P(v.Number())]; !ok && v.Number() != 0 {
			t.Errorf("wire value %s has no domain value", v.Name())
		}
	}
	if _, ok := e.fromProto[0]; ok {
		t.Error("the wire's zero value is paired; it must stay the domain's zero (unknown)")
	}
}

func TestEnumPairsAreComplete(t *testing.T) {
	for _, tc := range []struct {
		name  string
		check func(*testing.T)
	}{
		{"process field", func(t *testing.T) { checkPairs(t, fieldPairs, process.FieldsAll.Bits()) }},
		{"process status", func(t *testing.T) { checkPairs(t, statusPairs, process.Statuses()) }},
		{"process signal", func(t *testing.T) { checkPairs(t, signalPairs, process.Signals) }},
		{"process event type", func(t *testing.T) { checkPairs(t, eventTypePairs, watch.EventTypes()) }},
		{"service state", func(t *testing.T) { checkPairs(t, serviceStatePairs, service.States()) }},
		{"service start type", func(t *testing.T) { checkPairs(t, startTypePairs, service.StartTypes()) }},
		{"service event type", func(t *testing.T) { checkPairs(t, serviceEventTypePairs, service.EventTypes()) }},
	} {
		t.Run(tc.name, tc.check)
	}
}

// fakeState is a domain enum with a value the wire lacks.
type fakeState int

func (s fakeState) String() string {
	return [...]string{"unknown", "running", "hibernating", "Disk_Sleep"}[s]
}

// TestPairEnumsBySpelling shows the rule: a value pairs with the wire value
// of its name in any case, the zero values stay unpaired, and a value
// without a wire counterpart is reported (checkPairs then fails).
func TestPairEnumsBySpelling(t *testing.T) {
	e := pairEnums[fakeState, pb.ServiceState](0, 1, 2)
	if got := e.toProto[1]; got != pb.ServiceState_SERVICE_STATE_RUNNING {
		t.Errorf("running pairs with %v", got)
	}
	if _, ok := e.toProto[0]; ok {
		t.Error("the zero value is paired")
	}
	if !slices.Equal(e.unpaired, []fakeState{2}) {
		t.Errorf("unpaired %v, want [hibernating]", e.unpaired)
	}
	ps := pairEnums[fakeState, pb.ProcessStatus](3)
	if got := ps.toProto[3]; got != pb.ProcessStatus_PROCESS_STATUS_DISK_SLEEP {
		t.Errorf("Disk_Sleep pairs with %v", got)
	}
}

// TestFieldsToProtoKeepsBitOrder: unavailable fields are reported in the
// order of the wire enum, unknown bits left out.
func TestFieldsToProtoKeepsBitOrder(t *testing.T) {
	got := fieldsToProto(process.FieldThreads | process.FieldName | process.FieldCPU | 1<<30)
	want := []pb.ProcessField{pb.ProcessField_PROCESS_FIELD_NAME, pb.ProcessField_PROCESS_FIELD_CPU, pb.ProcessField_PROCESS_FIELD_THREADS}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	back, err := fieldsFromProto(want)
	if err != nil || back != process.FieldThreads|process.FieldName|process.FieldCPU {
		t.Errorf("back: %v, %v", back, err)
	}
	if _, err := fieldsFromProto([]pb.ProcessField{pb.ProcessField_PROCESS_FIELD_UNSPECIFIED}); err == nil {
		t.Error("an unspecified field was accepted")
	}
}
