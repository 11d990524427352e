package pki

import "testing"

// FuzzParseSerial: configured revoked serials never panic the parser, and
// an accepted serial round-trips through its canonical hex form.
func FuzzParseSerial(f *testing.F) {
	for _, s := range []string{"0a:1b", "0X0A1B", "", "xyz", "-1", "0x", "::", "ff ff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseSerial(s)
		if err != nil {
			return
		}
		if n.Sign() < 0 {
			t.Fatalf("negative serial from %q", s)
		}
		back, err := ParseSerial(n.Text(16))
		if err != nil || back.Cmp(n) != 0 {
			t.Fatalf("%q -> %s does not round-trip: %v", s, n.Text(16), err)
		}
	})
}
