package errdefs_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// grpcAdapters are the packages under server/ that are adapters by nature:
// package server registers the gRPC services and interceptors, httpapi is the
// JSON gateway over the same gRPC handlers, and metrics is a gRPC stats and
// interceptor decorator. Everything else under server/ is domain (or a domain
// decorator such as guard) and must not depend on gRPC or protobuf, not even
// through the error package.
var grpcAdapters = map[string]bool{
	"github.com/remotectl/remotectl/server":         true,
	"github.com/remotectl/remotectl/server/httpapi": true,
	"github.com/remotectl/remotectl/server/metrics": true,
}

// TestDomainHasNoGRPCDependency keeps issue 14's split true: it asks the go
// tool for the dependency closure of every package under server/ (and of
// errdefs itself) on each platform we ship.
func TestDomainHasNoGRPCDependency(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH: cannot run go list -deps")
	}
	for _, goos := range []string{"linux", "windows", "darwin"} {
		t.Run(goos, func(t *testing.T) {
			cmd := exec.Command(gobin, "list", "-deps=false", "-json=ImportPath,Deps",
				"github.com/remotectl/remotectl/server/...", "github.com/remotectl/remotectl/internal/errdefs")
			cmd.Env = append(os.Environ(), "GOOS="+goos)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("go list: %v\n%s", err, stderr.String())
			}
			checked := 0
			dec := json.NewDecoder(bytes.NewReader(out))
			for {
				var p struct {
					ImportPath string
					Deps       []string
				}
				if err := dec.Decode(&p); errors.Is(err, io.EOF) {
					break
				} else if err != nil {
					t.Fatalf("decode go list output: %v", err)
				}
				if grpcAdapters[p.ImportPath] {
					continue
				}
				checked++
				for _, d := range p.Deps {
					if strings.HasPrefix(d, "google.golang.org/grpc") || strings.HasPrefix(d, "google.golang.org/protobuf") {
						t.Errorf("%s (GOOS=%s) depends on %s; only the adapters %v may import gRPC (use internal/errdefs, not errgrpc)",
							p.ImportPath, goos, d, adapterNames())
						break
					}
				}
			}
			if checked < 5 {
				t.Fatalf("only %d domain packages listed; the pattern no longer matches the tree", checked)
			}
		})
	}
}

func adapterNames() []string {
	return slices.Sorted(maps.Keys(grpcAdapters))
}
