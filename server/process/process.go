// Package process is the process domain: plain types, the Lister that the
// gRPC layer calls, and per-platform readers. It imports no proto code.
package process

import (
	"context"
	"time"
)

// Key identifies a process across PID reuse: a PID alone may name a different
// process a moment later, a (PID, start time) pair never does.
type Key struct {
	PID       int32
	StartTime time.Time
}

// Field is a bit set of the optional process fields. PID, parent PID and start
// time are always read; everything else is read only when asked for, so a
// caller that wants pid+name does not pay for argv or user lookups.
type Field uint32

const (
	FieldName    Field = 1 << iota // short name (comm)
	FieldExe                       // executable path
	FieldArgs                      // argv
	FieldUser                      // owning user name
	FieldStatus                    // scheduler status
	FieldCPU                       // CPU times and CPU percent
	FieldMemory                    // resident and virtual size
	FieldThreads                   // thread count

	// FieldsAll selects every optional field.
	FieldsAll = FieldName | FieldExe | FieldArgs | FieldUser | FieldStatus | FieldCPU | FieldMemory | FieldThreads
)

// Has reports whether all bits of g are set in f.
func (f Field) Has(g Field) bool { return f&g == g }

// Status is a portable process state.
type Status int

const (
	StatusUnknown   Status = iota
	StatusRunning          // on CPU or runnable
	StatusSleeping         // interruptible wait
	StatusDiskSleep        // uninterruptible wait
	StatusStopped          // stopped by a signal or traced
	StatusZombie           // exited, not yet reaped
	StatusIdle             // kernel idle thread
	StatusDead
)

// Process is one process as read in one listing.
type Process struct {
	PID       int32
	PPID      int32
	StartTime time.Time

	Name string
	Exe  string
	Args []string
	User string
	// UID is the effective user id, the one User names (as ps shows it),
	// where the platform has one (-1 when unknown or not asked for).
	UID    int64
	Status Status

	CPUUser   time.Duration // cumulative user-mode CPU time
	CPUSystem time.Duration // cumulative kernel-mode CPU time
	// CPUPercent is CPU time used (user+system) during CPUWindow divided by
	// CPUWindow, times 100: 100 means one logical CPU fully busy, the maximum
	// is 100 x logical CPUs. It is a delta between two samples, never a
	// lifetime average.
	CPUPercent float64
	// CPUWindow is the wall-clock interval CPUPercent was measured over.
	CPUWindow time.Duration

	RSS     uint64 // resident set size, bytes
	VMS     uint64 // virtual memory size, bytes
	Threads int32

	// Unavailable holds the requested fields that could not be read
	// (permission, protected or vanished process). Such fields are left zero;
	// the process is still returned.
	Unavailable Field
}

// Key returns the identity of p.
func (p *Process) Key() Key { return Key{PID: p.PID, StartTime: p.StartTime} }

// SortBy selects the listing order.
type SortBy int

const (
	SortPID    SortBy = iota // ascending PID (default)
	SortCPU                  // descending CPU percent
	SortMemory               // descending resident memory
)

// Filter selects processes. Zero values match everything; set fields are ANDed.
type Filter struct {
	NameGlob string  // path.Match glob over Name (e.g. "ssh*")
	User     string  // exact user name
	PIDs     []int32 // any of these PIDs
	PPID     *int32  // exact parent PID
}

// ListOptions is the input of Lister.List.
type ListOptions struct {
	Filter Filter
	Fields Field
	Sort   SortBy
}

// Lister lists processes. Implementations read each process at most once per
// call and are safe for concurrent use.
type Lister interface {
	List(ctx context.Context, opts ListOptions) ([]Process, error)
	// Count returns the number of processes on the host, as cheaply as the
	// platform allows (used by Heartbeat).
	Count(ctx context.Context) (int, error)
}
