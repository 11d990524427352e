//go:build !unix

package e2e

import "time"

// cpuTime is not measured here (the benchmarks that report it run on Linux).
func cpuTime() time.Duration { return 0 }
