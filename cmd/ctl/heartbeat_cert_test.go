package main

import (
	"strings"
	"testing"
	"time"
)

func TestCertLine(t *testing.T) {
	at := func(d time.Duration) string { return time.Now().Add(d).UTC().Format(time.RFC3339Nano) }
	cases := []struct {
		v    heartbeatView
		want []string
	}{
		{heartbeatView{}, []string{"-"}},
		{heartbeatView{ServerCertNotAfter: at(300 * 24 * time.Hour), ServerCertSerial: "ab12"}, []string{"expires ", ", serial ab12"}},
		{heartbeatView{ServerCertNotAfter: at(10*24*time.Hour + time.Hour)}, []string{"(in 10 days: renew it)"}},
		{heartbeatView{ServerCertNotAfter: at(-time.Hour)}, []string{"(EXPIRED)"}},
	}
	for _, tc := range cases {
		got := certLine(tc.v)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("certLine(%+v) = %q, want it to contain %q", tc.v, got, w)
			}
		}
	}
	if got := certLine(heartbeatView{ServerCertNotAfter: at(300 * 24 * time.Hour)}); strings.Contains(got, "renew") {
		t.Errorf("a certificate valid for 300 days is flagged: %q", got)
	}
}
