package watch

import (
	"slices"

	"github.com/remotectl/remotectl/server/process"
)

func sortByPID(ps []process.Process) {
	slices.SortFunc(ps, func(a, b process.Process) int { return int(a.PID) - int(b.PID) })
}
