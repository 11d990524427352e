package process

import (
	"slices"
	"testing"
)

func TestFieldBitsAndNames(t *testing.T) {
	for _, tc := range []struct {
		f    Field
		bits []Field
		name string
	}{
		{0, nil, ""},
		{FieldName, []Field{FieldName}, "name"},
		{FieldThreads | FieldExe, []Field{FieldExe, FieldThreads}, "exe,threads"},
		{FieldsAll, []Field{FieldName, FieldExe, FieldArgs, FieldUser, FieldStatus, FieldCPU, FieldMemory, FieldThreads},
			"name,exe,args,user,status,cpu,memory,threads"},
		{FieldCPU | 1<<31, []Field{FieldCPU, 1 << 31}, "cpu,field(0x80000000)"},
	} {
		if got := tc.f.Bits(); !slices.Equal(got, tc.bits) {
			t.Errorf("%#x.Bits() = %v, want %v", uint32(tc.f), got, tc.bits)
		}
		if got := tc.f.String(); got != tc.name {
			t.Errorf("%#x.String() = %q, want %q", uint32(tc.f), got, tc.name)
		}
	}
}

func TestStatusNames(t *testing.T) {
	all := Statuses()
	if all[0] != StatusUnknown || all[len(all)-1] != StatusDead {
		t.Errorf("Statuses() = %v, want unknown ... dead", all)
	}
	if StatusDiskSleep.String() != "disk_sleep" || Status(99).String() != "status(99)" {
		t.Errorf("spellings: %q, %q", StatusDiskSleep, Status(99))
	}
}
