//go:build cgo

package process

// With cgo gopsutil reads everything through libproc and sysctl.
const execBacked Field = 0
