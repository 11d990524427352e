//go:build !windows

package agent

import (
	"context"

	"github.com/shirou/gopsutil/v3/load"
)

func loadAverage(ctx context.Context) *LoadAverage {
	a, err := load.AvgWithContext(ctx)
	if err != nil {
		return nil
	}
	return &LoadAverage{Load1: a.Load1, Load5: a.Load5, Load15: a.Load15}
}
