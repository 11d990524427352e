package logs

import (
	"errors"
	"runtime"
	"testing"

	"github.com/remotectl/remotectl/internal/errdefs"
)

// TestServiceSourceNameRules: a service log source is named by the one
// service-name rule (service.ValidateName), then by its backend's.
func TestServiceSourceNameRules(t *testing.T) {
	l, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		bad  bool
	}{
		{"", true},
		{"-x", true},
		{"../etc", true},
		{"a\x01b", true},
		{"nginx", false},
	} {
		key, err := l.Key(Source{Kind: KindService, Service: tc.name})
		switch {
		case tc.bad && !errors.Is(err, errdefs.ErrInvalidArgument):
			t.Errorf("%q: key %q, err %v; want ErrInvalidArgument", tc.name, key, err)
		case !tc.bad && runtime.GOOS == "linux" && (err != nil || key != "journal:nginx"):
			t.Errorf("%q: key %q, err %v; want journal:nginx", tc.name, key, err)
		case !tc.bad && err != nil && errors.Is(err, errdefs.ErrInvalidArgument):
			t.Errorf("%q: refused as malformed: %v", tc.name, err)
		}
	}
}
