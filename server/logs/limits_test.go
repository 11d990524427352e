package logs

import (
	"reflect"
	"testing"
)

func TestLimitsWithDefaults(t *testing.T) {
	got := Limits{MaxReadLines: 7}.WithDefaults()
	if got.MaxReadLines != 7 || got.BatchLines != DefaultLimits.BatchLines {
		t.Errorf("WithDefaults = %+v: set fields must stay, zero ones take DefaultLimits", got)
	}
	// A field added to Limits without a default would stay zero.
	v := reflect.ValueOf(got)
	for i := range v.NumField() {
		if v.Field(i).IsZero() {
			t.Errorf("%s has no default", v.Type().Field(i).Name)
		}
	}
}
