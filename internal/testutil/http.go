package testutil

import (
	"io"
	"net/http"
	"testing"
)

// Get fetches url (a /metrics page on loopback) and returns the body,
// failing the test on an error or a status other than 200.
func Get(tb testing.TB, url string) string {
	tb.Helper()
	resp, err := http.Get(url)
	if err != nil {
		tb.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		tb.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	return string(body)
}
