package main

import "testing"

func TestTallyString(t *testing.T) {
	tests := []struct {
		name   string
		counts tally
		want   string
	}{
		{"none", tally{}, "0 ok, 0 failed, 0 unreachable, 0 timed out, 0 skipped"},
		{"mixed", tally{outcomeOK: 3, outcomeTimedOut: 1, outcomeSkipped: 2},
			"3 ok, 0 failed, 0 unreachable, 1 timed out, 2 skipped"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.counts.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}
