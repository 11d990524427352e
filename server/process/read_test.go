package process

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/remotectl/remotectl/internal/errdefs"
)

// TestReadTable covers what every table-walking reader (Windows, gopsutil)
// gets from readTable: the entries readOne keeps, in order; a table that
// cannot be listed as UNAVAILABLE; a cancelled listing as CANCELED, without
// reading a single entry.
func TestReadTable(t *testing.T) {
	table := []int32{1, 2, 3, 4}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name    string
		ctx     context.Context
		listErr error
		want    []int32
		wantErr error
		reads   int
	}{
		{"keeps what readOne keeps", context.Background(), nil, []int32{2, 4}, nil, 4},
		{"list fails", context.Background(), errors.New("snapshot: access denied"), nil, errdefs.ErrUnavailable, 0},
		{"cancelled", cancelled, nil, nil, errdefs.ErrCanceled, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reads := 0
			list := func() ([]int32, error) { return slices.Clone(table), tc.listErr }
			procs, err := readTable(tc.ctx, list, func(pid *int32, p *Process) bool {
				reads++
				p.PID = *pid
				return *pid%2 == 0
			})
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			var got []int32
			for _, p := range procs {
				got = append(got, p.PID)
			}
			if !slices.Equal(got, tc.want) || reads != tc.reads {
				t.Fatalf("kept %v after %d reads, want %v after %d", got, reads, tc.want, tc.reads)
			}
		})
	}
}
