package agent

import "context"

// Windows has no run-queue load average; gopsutil's emulation starts at zero
// and would be reported as if real, so report none.
func loadAverage(context.Context) *LoadAverage { return nil }
