package main

import (
	"slices"
	"strconv"
	"testing"
)

func TestViewsOfAndRowsOf(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []int
		rows [][]string
	}{
		{"empty", nil, nil},
		{"two", []int{1, 2}, [][]string{{"1", "2"}, {"2", "4"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			views := viewsOf(tc.in, func(i int) [2]int { return [2]int{i, 2 * i} })
			if views == nil || len(views) != len(tc.in) {
				t.Fatalf("views = %v: want a non-nil list of %d (JSON [] for none)", views, len(tc.in))
			}
			rows := rowsOf(func(v [2]int) []string { return []string{strconv.Itoa(v[0]), strconv.Itoa(v[1])} })(views)
			if !slices.EqualFunc(rows, tc.rows, slices.Equal) {
				t.Fatalf("rows = %v, want %v", rows, tc.rows)
			}
		})
	}
}
