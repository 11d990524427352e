package main

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// TestEncodeListMatchesSerial: the parallel list encoder writes exactly what
// one encoder writes, element order kept, at every size around the split.
func TestEncodeListMatchesSerial(t *testing.T) {
	type item struct {
		N    int      `json:"n"`
		Name string   `json:"name"`
		Args []string `json:"args,omitempty"`
	}
	for _, n := range []int{0, 1, 2, parallelListMin - 1, parallelListMin, parallelListMin + 1, 1000, 1001} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			items := make([]item, n)
			var want strings.Builder
			want.WriteString("[")
			for i := range items {
				items[i] = item{N: i, Name: fmt.Sprintf("p<%d>&", i), Args: strings.Fields(strings.Repeat("a ", i%4))}
				b, err := json.Marshal(items[i])
				if err != nil {
					t.Fatal(err)
				}
				// encodeList does not escape HTML; Marshal does.
				s := strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(string(b))
				if i == 0 {
					want.WriteString("\n  ")
				} else {
					want.WriteString(",\n  ")
				}
				want.WriteString(s)
			}
			if n == 0 {
				want.WriteString("]\n")
			} else {
				want.WriteString("\n]\n")
			}
			got, err := encodeList(reflect.ValueOf(items))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != want.String() {
				t.Fatalf("encodeList(%d items) differs from the serial encoding:\n got %.300q\nwant %.300q", n, got, want.String())
			}
			var back []item
			if err := json.Unmarshal(got, &back); err != nil || len(back) != n {
				t.Fatalf("not a valid JSON list of %d: %v (%d)", n, err, len(back))
			}
		})
	}
}

func TestEncodeListError(t *testing.T) {
	bad := make([]any, parallelListMin*2)
	for i := range bad {
		bad[i] = i
	}
	bad[len(bad)-1] = make(chan int) // not encodable, in the last part
	if _, err := encodeList(reflect.ValueOf(bad)); err == nil {
		t.Fatal("an unencodable element in a later part must fail the list")
	}
}
