package defaults

import (
	"testing"
	"time"
)

func TestFill(t *testing.T) {
	for _, tc := range []struct {
		v, def, want time.Duration
	}{
		{0, time.Second, time.Second},
		{-1, time.Second, time.Second},
		{time.Millisecond, time.Second, time.Millisecond},
	} {
		v := tc.v
		Fill(&v, tc.def)
		if v != tc.want {
			t.Errorf("Fill(%v, %v) = %v, want %v", tc.v, tc.def, v, tc.want)
		}
	}
	f := -0.5
	Fill(&f, 2.5)
	if f != 2.5 {
		t.Errorf("Fill(-0.5, 2.5) = %v, want 2.5", f)
	}
}
