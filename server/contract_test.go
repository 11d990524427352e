package server

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/remotectl/remotectl/internal/nameglob"
	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
	"github.com/remotectl/remotectl/server/process"
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

// TestProtoStatesTheListLimits keeps the proto's figures for the process
// listing in step with their definitions (process.MaxLimit, the glob rule
// of internal/nameglob).
func TestProtoStatesTheListLimits(t *testing.T) {
	b, err := os.ReadFile("../proto/remotectl/v1/process.proto")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		fmt.Sprintf("0 means no limit. At most %d.", process.MaxLimit),
		fmt.Sprintf(`e.g. "ssh*". At most %d bytes.`, nameglob.MaxLen),
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("process.proto does not say %q; update the comment to the constant", want)
		}
	}
}

// TestServiceEnumSpellingsMatchTheWire keeps the audit's spelling of the
// wire's service states equal to the domain's, which is the wire name ctl
// prints (pairEnums pairs them by it; enums_test.go proves the pairing).
func TestServiceEnumSpellingsMatchTheWire(t *testing.T) {
	for d, p := range serviceStatePairs.toProto {
		if stateText(p) != d.String() {
			t.Errorf("state %v: audit %q, domain %q", p, stateText(p), d)
		}
	}
	if got := stateText(pb.ServiceState_SERVICE_STATE_UNSPECIFIED); got != "unknown" {
		t.Errorf("audit spells an unset state %q, want unknown (as the intent record)", got)
	}
}
