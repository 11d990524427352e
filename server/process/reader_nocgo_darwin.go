//go:build !cgo

package process

// Without cgo gopsutil gets these fields by running ps or lsof once per
// process and field, which is far too slow for a listing and runs other
// programs on the caller's behalf; they are reported unavailable instead.
const execBacked = FieldExe | FieldArgs | FieldCPU | FieldMemory | FieldThreads
