package process

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/remotectl/remotectl/internal/errdefs"
)

func ptr[T any](v T) *T { return &v }

func TestFilterValidate(t *testing.T) {
	many := make([]int32, MaxPIDs+1)
	for i := range many {
		many[i] = int32(i + 1)
	}
	tests := []struct {
		name string
		f    Filter
		ok   bool
	}{
		{"zero", Filter{}, true},
		{"glob", Filter{NameGlob: "ssh*"}, true},
		{"glob class", Filter{NameGlob: "[a-c]?d"}, true},
		{"glob unclosed class", Filter{NameGlob: "[abc"}, false},
		{"glob trailing escape", Filter{NameGlob: `abc\`}, false},
		{"glob bad range", Filter{NameGlob: "[z-]"}, false},
		{"glob max len", Filter{NameGlob: strings.Repeat("a", MaxGlobLen)}, true},
		{"glob too long", Filter{NameGlob: strings.Repeat("a", MaxGlobLen+1)}, false},
		{"user", Filter{User: "root"}, true},
		{"user domain", Filter{User: `NT AUTHORITY\SYSTEM`}, true},
		{"user too long", Filter{User: strings.Repeat("u", MaxUserLen+1)}, false},
		{"user newline", Filter{User: "ro\not"}, false},
		{"user NUL", Filter{User: "root\x00"}, false},
		{"user DEL", Filter{User: "root\x7f"}, false},
		{"pids", Filter{PIDs: []int32{1, 2, 3}}, true},
		{"pid zero", Filter{PIDs: []int32{1, 0}}, false},
		{"pid negative", Filter{PIDs: []int32{-5}}, false},
		{"pids max", Filter{PIDs: many[:MaxPIDs]}, true},
		{"pids too many", Filter{PIDs: many}, false},
		{"ppid zero", Filter{PPID: ptr[int32](0)}, true},
		{"ppid negative", Filter{PPID: ptr[int32](-1)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.f.Validate()
			if tt.ok && err != nil {
				t.Fatalf("Validate() = %v, want nil", err)
			}
			if !tt.ok && !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Fatalf("Validate() = %v, want ErrInvalidArgument", err)
			}
		})
	}
}

func TestListOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		o    ListOptions
		ok   bool
	}{
		{"zero", ListOptions{}, true},
		{"all", ListOptions{Fields: FieldsAll, Sort: SortMemory}, true},
		{"unknown sort", ListOptions{Sort: SortMemory + 1}, false},
		{"negative sort", ListOptions{Sort: -1}, false},
		{"unknown field", ListOptions{Fields: FieldsAll + 1}, false},
		{"bad filter", ListOptions{Filter: Filter{NameGlob: "["}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.o.Validate()
			if tt.ok != (err == nil) {
				t.Fatalf("Validate() = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Fatalf("Validate() = %v, not ErrInvalidArgument", err)
			}
		})
	}
}

func TestValidateLimit(t *testing.T) {
	for _, tc := range []struct {
		n  int64
		ok bool
	}{{0, true}, {1, true}, {MaxLimit, true}, {-1, false}, {MaxLimit + 1, false}} {
		err := ValidateLimit(tc.n)
		if tc.ok != (err == nil) || (err != nil && !errors.Is(err, errdefs.ErrInvalidArgument)) {
			t.Errorf("ValidateLimit(%d) = %v, want ok=%v", tc.n, err, tc.ok)
		}
	}
}

func TestFilterMatch(t *testing.T) {
	p := Process{PID: 42, PPID: 7, Name: "sshd", User: "root"}
	tests := []struct {
		name string
		f    Filter
		want bool
	}{
		{"zero", Filter{}, true},
		{"glob", Filter{NameGlob: "ssh*"}, true},
		{"glob exact", Filter{NameGlob: "sshd"}, true},
		{"glob miss", Filter{NameGlob: "ssh"}, false},
		{"glob class", Filter{NameGlob: "[rs]shd"}, true},
		{"user", Filter{User: "root"}, true},
		{"user case", Filter{User: "Root"}, false},
		{"pid in", Filter{PIDs: []int32{1, 42}}, true},
		{"pid out", Filter{PIDs: []int32{1, 43}}, false},
		{"ppid", Filter{PPID: ptr[int32](7)}, true},
		{"ppid miss", Filter{PPID: ptr[int32](0)}, false},
		{"and all", Filter{NameGlob: "s*", User: "root", PIDs: []int32{42}, PPID: ptr[int32](7)}, true},
		{"and one misses", Filter{NameGlob: "s*", User: "daemon", PIDs: []int32{42}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.f.Match(&p); got != tt.want {
				t.Fatalf("Match() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestReadFields(t *testing.T) {
	tests := []struct {
		name string
		o    ListOptions
		want Field
	}{
		{"nothing", ListOptions{}, 0},
		{"requested only", ListOptions{Fields: FieldArgs}, FieldArgs},
		{"name glob", ListOptions{Filter: Filter{NameGlob: "x*"}}, FieldName},
		{"user filter", ListOptions{Filter: Filter{User: "root"}}, FieldUser},
		{"pid filters need nothing", ListOptions{Filter: Filter{PIDs: []int32{1}, PPID: ptr[int32](1)}}, 0},
		{"sort cpu", ListOptions{Sort: SortCPU}, FieldCPU},
		{"sort memory", ListOptions{Sort: SortMemory, Fields: FieldExe}, FieldMemory | FieldExe},
		{"combined", ListOptions{Fields: FieldThreads, Sort: SortCPU, Filter: Filter{User: "u", NameGlob: "n"}},
			FieldThreads | FieldCPU | FieldUser | FieldName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.o.ReadFields(); got != tt.want {
				t.Fatalf("ReadFields() = %#x, want %#x", got, tt.want)
			}
		})
	}
}

func TestSort(t *testing.T) {
	t0 := time.Unix(1000, 0)
	in := []Process{
		{PID: 30, CPUPercent: 5, RSS: 100, StartTime: t0},
		{PID: 10, CPUPercent: 50, RSS: 100, StartTime: t0},
		{PID: 20, CPUPercent: 5, RSS: 300, StartTime: t0},
		{PID: 5, CPUPercent: 0, RSS: 0, StartTime: t0},
		{PID: 40, CPUPercent: 50, RSS: 300, StartTime: t0},
	}
	tests := []struct {
		name string
		by   SortBy
		want []int32
	}{
		{"pid", SortPID, []int32{5, 10, 20, 30, 40}},
		{"cpu ties by pid", SortCPU, []int32{10, 40, 20, 30, 5}},
		{"memory ties by pid", SortMemory, []int32{20, 40, 10, 30, 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := slices.Clone(in)
			Sort(got, tt.by)
			var pids []int32
			for _, p := range got {
				pids = append(pids, p.PID)
			}
			if !slices.Equal(pids, tt.want) {
				t.Fatalf("order = %v, want %v", pids, tt.want)
			}
		})
	}
}

func TestMask(t *testing.T) {
	full := Process{
		PID: 1, PPID: 2, StartTime: time.Unix(5, 0),
		Name: "n", Exe: "/e", Args: []string{"a"}, User: "u", UID: 3, Status: StatusRunning,
		CPUUser: 1, CPUSystem: 1, CPUPercent: 1, CPUWindow: 1, RSS: 1, VMS: 1, Threads: 1,
		Unavailable: FieldExe | FieldUser,
	}
	shown := full
	shown.Exe, shown.User, shown.UID = "", "", -1 // listed unavailable: never a misleading value
	exeArgs := Process{PID: 1, PPID: 2, StartTime: time.Unix(5, 0), UID: -1, Args: []string{"a"}, Unavailable: FieldExe}
	for _, tc := range []struct {
		name  string
		f     Field
		want  Process
		shown Field
	}{
		{"none", 0, Process{PID: 1, PPID: 2, StartTime: time.Unix(5, 0), UID: -1}, 0},
		{"all", FieldsAll, shown, FieldsAll &^ (FieldExe | FieldUser)},
		{"exe and args", FieldExe | FieldArgs, exeArgs, FieldArgs},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := full.Shown(tc.f); got != tc.shown {
				t.Errorf("Shown = %b, want %b", got, tc.shown)
			}
			p := full
			p.Mask(tc.f)
			if !equalProcess(p, tc.want) {
				t.Fatalf("Mask = %+v, want %+v", p, tc.want)
			}
		})
	}
}

func equalProcess(a, b Process) bool { return reflect.DeepEqual(a, b) }

func TestFullName(t *testing.T) {
	tests := []struct {
		comm, exe, argv0, want string
	}{
		{"sshd", "/usr/sbin/sshd", "", "sshd"},
		{"systemd-journal", "/usr/lib/systemd/systemd-journald", "", "systemd-journald"},
		{"systemd-journal", "", "/lib/systemd/systemd-journald", "systemd-journald"},
		{"systemd-journal", "/usr/bin/python3", "/lib/systemd/systemd-journald", "systemd-journald"},
		{"my-long-script-", "/usr/bin/python3", "python3", "my-long-script-"},
		{"short", "/bin/shortened", "", "short"}, // not truncated: kept
	}
	for _, tt := range tests {
		if got := fullName(tt.comm, 15, tt.exe, tt.argv0); got != tt.want {
			t.Errorf("fullName(%q, %q, %q) = %q, want %q", tt.comm, tt.exe, tt.argv0, got, tt.want)
		}
	}
}
