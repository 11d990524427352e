//go:build !linux && !windows

package service

import (
	"context"
	"errors"
	"testing"

	"github.com/remotectl/remotectl/internal/errdefs"
)

func TestUnsupported(t *testing.T) {
	m := NewManager()
	defer m.Close()
	ctx := context.Background()
	if st := m.Status(ctx); st.Kind != "none" || st.Available || st.Reason == "" {
		t.Errorf("Status = %+v", st)
	}
	_, err := m.List(ctx, Filter{})
	if !errors.Is(err, errdefs.ErrNotSupported) {
		t.Errorf("List = %v, want ErrNotSupported", err)
	}
	for op, f := range map[string]func(context.Context, string, ControlOptions) (Result, error){
		"Start": m.Start, "Stop": m.Stop, "Restart": m.Restart,
	} {
		if _, err := f(ctx, "x", ControlOptions{}); !errors.Is(err, errdefs.ErrNotSupported) {
			t.Errorf("%s = %v, want ErrNotSupported", op, err)
		}
	}
	if _, err := m.Get(ctx, "x"); !errors.Is(err, errdefs.ErrNotSupported) {
		t.Errorf("Get = %v, want ErrNotSupported", err)
	}
}
