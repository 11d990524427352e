package errgrpc

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/remotectl/remotectl/internal/errdefs"
)

func TestRoundTripEverySentinel(t *testing.T) {
	for _, e := range table {
		t.Run(e.code.String(), func(t *testing.T) {
			domain := fmt.Errorf("%w: unit x is odd", e.err)
			wire := ToGRPC(domain)
			if status.Code(wire) != e.code {
				t.Fatalf("ToGRPC code = %v, want %v", status.Code(wire), e.code)
			}
			back := FromGRPC(wire)
			if !errors.Is(back, e.err) {
				t.Fatalf("FromGRPC(%v) does not match %v", back, e.err)
			}
			if status.Code(back) != e.code {
				t.Fatalf("client error lost its status: %v", status.Code(back))
			}
			if back.Error() != domain.Error() {
				t.Fatalf("message %q, want the domain's %q (no doubled prefix)", back.Error(), domain.Error())
			}
		})
	}
}

func TestToGRPCSpecialCases(t *testing.T) {
	if ToGRPC(nil) != nil || FromGRPC(nil) != nil {
		t.Fatal("nil must stay nil")
	}
	already := status.Error(codes.Aborted, "x")
	if ToGRPC(already) != already { //nolint:errorlint // identity: it must be the same value, not a wrapper
		t.Fatal("a status error must pass through unchanged")
	}
	if c := code(fmt.Errorf("wrapped: %w", context.DeadlineExceeded)); c != codes.DeadlineExceeded {
		t.Fatalf("context deadline -> %v", c)
	}
	if c := code(context.Canceled); c != codes.Canceled {
		t.Fatalf("context canceled -> %v", c)
	}
	if c := code(errors.New("surprise")); c != codes.Unknown {
		t.Fatalf("unmapped error -> %v, want Unknown", c)
	}
	// A server message without the sentinel prefix gets it on the client.
	got := FromGRPC(status.Error(codes.NotFound, "unit x"))
	if got.Error() != "not found: unit x" || !errors.Is(got, errdefs.ErrNotFound) {
		t.Fatalf("FromGRPC = %q", got)
	}
	// Codes without a sentinel come back as they are.
	raw := status.Error(codes.Aborted, "x")
	if FromGRPC(raw) != raw { //nolint:errorlint // identity: it must be the same value, not a wrapper
		t.Fatal("unmapped code must pass through")
	}
}

// code is the gRPC code ToGRPC uses for err.
func code(err error) codes.Code { return status.Code(ToGRPC(err)) }
