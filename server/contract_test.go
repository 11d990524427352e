package server

import (
	"fmt"
	"os"
	"strings"
	"testing"

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
