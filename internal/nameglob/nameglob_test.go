package nameglob

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		glob string
		ok   bool
	}{
		{"", true},
		{"ssh*", true},
		{"[a-z]?d", true},
		{strings.Repeat("a", MaxLen), true},
		{strings.Repeat("a", MaxLen+1), false},
		{"[", false},
		{"a[", false},
		{`\`, false},
		{"[]a]", false}, // Go has no literal ] first in a class
	} {
		if err := Check(tc.glob); (err == nil) != tc.ok {
			t.Errorf("Check(%.20q) = %v, want ok=%v", tc.glob, err, tc.ok)
		}
	}
}
