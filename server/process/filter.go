package process

import (
	"cmp"
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"unicode"

	"github.com/remotectl/remotectl/internal/errdefs"
	"github.com/remotectl/remotectl/internal/nameglob"
)

// Limits on request sizes; they bound the work one call can ask for.
const (
	MaxGlobLen = nameglob.MaxLen
	MaxUserLen = 256
	MaxPIDs    = 1024
	// MaxLimit bounds a listing's top-N limit (ListProcessesRequest.limit,
	// ctl ps --top). See ValidateLimit.
	MaxLimit = 100000
)

// ValidateLimit checks a top-N limit: 0 (all) to MaxLimit. The adapter cuts
// the sorted result of List to it, after counting every match for
// total_matched, so the limit is not part of ListOptions.
func ValidateLimit(n int64) error {
	if n < 0 || n > MaxLimit {
		return fmt.Errorf("%w: limit %d out of range 0..%d", errdefs.ErrInvalidArgument, n, MaxLimit)
	}
	return nil
}

// Validate checks f for syntax and size. Errors wrap errdefs.ErrInvalidArgument.
func (f Filter) Validate() error {
	if err := nameglob.Check(f.NameGlob); err != nil {
		return fmt.Errorf("%w: name glob %q: %w", errdefs.ErrInvalidArgument, f.NameGlob, err)
	}
	if len(f.User) > MaxUserLen {
		return fmt.Errorf("%w: user name longer than %d bytes", errdefs.ErrInvalidArgument, MaxUserLen)
	}
	for _, r := range f.User {
		if unicode.IsControl(r) {
			return fmt.Errorf("%w: user name %q contains a control character", errdefs.ErrInvalidArgument, f.User)
		}
	}
	if len(f.PIDs) > MaxPIDs {
		return fmt.Errorf("%w: %d PIDs, at most %d allowed", errdefs.ErrInvalidArgument, len(f.PIDs), MaxPIDs)
	}
	for _, pid := range f.PIDs {
		if pid <= 0 {
			return fmt.Errorf("%w: PID %d is not positive", errdefs.ErrInvalidArgument, pid)
		}
	}
	if f.PPID != nil && *f.PPID < 0 {
		return fmt.Errorf("%w: parent PID %d is negative", errdefs.ErrInvalidArgument, *f.PPID)
	}
	return nil
}

// Match reports whether p passes every set criterion of f. The fields the
// criteria look at (see ListOptions.ReadFields) must have been read.
func (f Filter) Match(p *Process) bool {
	return f.matchIDs(p) && f.matchName(p.Name) && f.matchUser(p.User)
}

// matchIDs checks the criteria known after the cheapest read (PID, PPID), so
// readers can drop a process before reading anything else.
func (f Filter) matchIDs(p *Process) bool {
	if f.PPID != nil && p.PPID != *f.PPID {
		return false
	}
	return len(f.PIDs) == 0 || slices.Contains(f.PIDs, p.PID)
}

func (f Filter) matchName(name string) bool {
	if f.NameGlob == "" {
		return true
	}
	ok, _ := path.Match(f.NameGlob, name) // validated: cannot fail
	return ok
}

func (f Filter) matchUser(user string) bool { return f.User == "" || f.User == user }

// Validate checks o. Errors wrap errdefs.ErrInvalidArgument.
func (o ListOptions) Validate() error {
	if err := o.Filter.Validate(); err != nil {
		return err
	}
	switch o.Sort {
	case SortPID, SortCPU, SortMemory:
	default:
		return fmt.Errorf("%w: unknown sort order %d", errdefs.ErrInvalidArgument, o.Sort)
	}
	if extra := o.Fields &^ FieldsAll; extra != 0 {
		return fmt.Errorf("%w: unknown field bits %#x", errdefs.ErrInvalidArgument, uint32(extra))
	}
	return nil
}

// ReadFields returns the fields a reader must read to serve o: the requested
// ones plus those the filter and the sort order look at.
func (o ListOptions) ReadFields() Field {
	f := o.Fields
	if o.Filter.NameGlob != "" {
		f |= FieldName
	}
	if o.Filter.User != "" {
		f |= FieldUser
	}
	switch o.Sort {
	case SortCPU:
		f |= FieldCPU
	case SortMemory:
		f |= FieldMemory
	}
	return f
}

// Sort orders ps by by; ties (and SortPID) go by ascending PID so the order
// is total and stable across calls.
func Sort(ps []Process, by SortBy) {
	byPID := func(a, b *Process) int {
		if c := cmp.Compare(a.PID, b.PID); c != 0 {
			return c
		}
		return a.StartTime.Compare(b.StartTime)
	}
	var less func(a, b *Process) int
	switch by {
	case SortCPU:
		less = func(a, b *Process) int {
			if c := cmp.Compare(b.CPUPercent, a.CPUPercent); c != 0 {
				return c
			}
			return byPID(a, b)
		}
	case SortMemory:
		less = func(a, b *Process) int {
			if c := cmp.Compare(b.RSS, a.RSS); c != 0 {
				return c
			}
			return byPID(a, b)
		}
	default:
		less = byPID
	}
	// sort.Slice compares in place; slices.SortFunc would copy two large
	// structs per comparison.
	sort.Slice(ps, func(i, j int) bool { return less(&ps[i], &ps[j]) < 0 })
}

// Shown is what a caller who asked for f sees of p: the fields asked for
// and read. It is the one rule of field selection: Mask applies it, the
// gRPC adapter sends what it leaves, and ctl reads the wire's
// unavailable_fields by it.
func (p *Process) Shown(f Field) Field { return f &^ p.Unavailable }

// Mask zeroes the optional fields of p that are not Shown(f), so a caller
// sees exactly what it asked for even when filter or sort made the reader
// read more, and an unreadable field is never a misleading zero. Unavailable
// keeps only the fields asked for.
func (p *Process) Mask(f Field) {
	p.Unavailable &= f
	f = p.Shown(f)
	if !f.Has(FieldName) {
		p.Name = ""
	}
	if !f.Has(FieldExe) {
		p.Exe = ""
	}
	if !f.Has(FieldArgs) {
		p.Args = nil
	}
	if !f.Has(FieldUser) {
		p.User, p.UID = "", -1
	}
	if !f.Has(FieldStatus) {
		p.Status = StatusUnknown
	}
	if !f.Has(FieldCPU) {
		p.CPUUser, p.CPUSystem, p.CPUPercent, p.CPUWindow = 0, 0, 0, 0
	}
	if !f.Has(FieldMemory) {
		p.RSS, p.VMS = 0, 0
	}
	if !f.Has(FieldThreads) {
		p.Threads = 0
	}
}

// fullName undoes the kernel's truncation of a short name: a comm of at least
// truncLen bytes is replaced by the basename of the executable or of argv[0]
// when that starts with it (what psutil does).
func fullName(comm string, truncLen int, exe, argv0 string) string {
	if len(comm) < truncLen {
		return comm
	}
	for _, s := range [...]string{exe, argv0} {
		if b := filepath.Base(s); s != "" && len(b) > len(comm) && strings.HasPrefix(b, comm) {
			return b
		}
	}
	return comm
}
