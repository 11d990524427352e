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

func TestFillAll(t *testing.T) {
	type limits struct {
		Rate    float64
		Burst   int
		Size    uint32
		Timeout time.Duration
		Name    string
		hidden  int
	}
	def := limits{Rate: 2, Burst: 10, Size: 64, Timeout: time.Second, Name: "default", hidden: 7}
	for _, tc := range []struct {
		name    string
		in, out limits
	}{
		{"zero takes every numeric default", limits{}, limits{Rate: 2, Burst: 10, Size: 64, Timeout: time.Second}},
		{"negative takes the default", limits{Rate: -1, Burst: -5, Timeout: -time.Second},
			limits{Rate: 2, Burst: 10, Size: 64, Timeout: time.Second}},
		{"set fields are kept", limits{Rate: 0.5, Burst: 1, Size: 1, Timeout: time.Millisecond, Name: "mine"},
			limits{Rate: 0.5, Burst: 1, Size: 1, Timeout: time.Millisecond, Name: "mine"}},
		{"unexported and string fields are left alone", limits{hidden: 0, Name: ""}, limits{Rate: 2, Burst: 10, Size: 64, Timeout: time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.in
			FillAll(&got, def)
			if got != tc.out {
				t.Errorf("FillAll(%+v) = %+v, want %+v", tc.in, got, tc.out)
			}
		})
	}
}
