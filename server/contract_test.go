package server

import (
	"fmt"
	"os"
	"strings"
	"testing"

	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
	"github.com/remotectl/remotectl/server/service"
)

// TestProtoStatesTheWaitContract keeps the proto's prose about service waits
// in step with their one definition (server/service DefaultTimeout and
// MaxTimeout): other languages read the figures there, not in Go.
func TestProtoStatesTheWaitContract(t *testing.T) {
	b, err := os.ReadFile("../proto/remotectl/v1/service.proto")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	want := fmt.Sprintf("default %d s, at most %d min", int(service.DefaultTimeout.Seconds()), int(service.MaxTimeout.Minutes()))
	fields := strings.Count(text, "google.protobuf.Duration timeout =")
	if fields == 0 {
		t.Fatal("no timeout field found in service.proto")
	}
	if got := strings.Count(text, want); got != fields {
		t.Errorf("service.proto says %q on %d of its %d timeout fields; update the comments to the constants", want, got, fields)
	}
}

// TestServiceEnumNumbersMatchTheWire lets ctl spell wire states and start
// types with the domain's one table (cmd/ctl wireNames): the numbers agree.
func TestServiceEnumNumbersMatchTheWire(t *testing.T) {
	for _, m := range serviceStates {
		if int(m.pb) != int(m.dom) {
			t.Errorf("state %v is %d on the wire, %d (%v) in the domain", m.pb, m.pb, m.dom, m.dom)
		}
		if m.dom != service.StateUnknown && stateText(m.pb) != m.dom.String() {
			t.Errorf("audit spells %v %q, the domain %q", m.pb, stateText(m.pb), m.dom)
		}
	}
	if got := stateText(pb.ServiceState_SERVICE_STATE_UNSPECIFIED); got != "unknown" {
		t.Errorf("audit spells an unset state %q, want unknown", got)
	}
	for d, w := range startTypeToProto {
		if int(w) != int(d) {
			t.Errorf("start type %v is %d on the wire, %d (%v) in the domain", w, w, d, d)
		}
	}
}
