package process

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	const tail = " S 1 100 100 0 -1 4194560 900 0 0 0 250 75 0 0 20 0 3 0 12345 10485760 256 18446744073709551615"
	tests := []struct {
		name, line, comm string
	}{
		{"plain", "4242 (sleep)" + tail, "sleep"},
		{"space and paren", "4242 (a) b)" + tail, "a) b"},
		{"nested parens", "4242 ((sd-pam))" + tail, "(sd-pam)"},
		{"empty comm", "4242 ()" + tail, ""},
		{"spaces", "4242 (Web Content)" + tail, "Web Content"},
		{"comm like fields", "4242 (x) R 9 9 9)" + tail, "x) R 9 9 9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var st procStat
			if err := parseStat([]byte(tt.line+"\n"), &st); err != nil {
				t.Fatal(err)
			}
			want := procStat{
				comm: []byte(tt.comm), state: 'S', ppid: 1, flags: 4194560,
				utime: 250, stime: 75, threads: 3, starttime: 12345, vsize: 10485760, rss: 256,
			}
			if string(st.comm) != tt.comm {
				t.Fatalf("comm = %q, want %q", st.comm, tt.comm)
			}
			st.comm, want.comm = nil, nil
			if !reflect.DeepEqual(st, want) {
				t.Fatalf("parsed %+v, want %+v", st, want)
			}
		})
	}
}

func TestParseStatMalformed(t *testing.T) {
	for _, line := range []string{
		"",
		"4242 sleep S 1",
		"4242 (sleep",
		"4242 (sleep)",
		"4242 (sleep) S 1 100",
		"4242 (sleep) S x 100 100 0 -1 4194560 900 0 0 0 250 75 0 0 20 0 3 0 12345 10485760 256",
		"4242 (sleep) S 1 100 100 0 -1 4194560 900 0 0 0 2-50 75 0 0 20 0 3 0 12345 10485760 256",
	} {
		var st procStat
		if err := parseStat([]byte(line), &st); err == nil {
			t.Errorf("parseStat(%q) succeeded: %+v", line, st)
		}
	}
}

func TestParseEUID(t *testing.T) {
	tests := []struct {
		in   string
		uid  uint32
		okay bool
	}{
		{"Name:\tx\nUmask:\t0022\nUid:\t1000\t0\t0\t0\nGid:\t0\t0\t0\t0\n", 0, true},
		{"Name:\tx\nUid:\t0\t1001\t0\t0\n", 1001, true},
		{"Name:\tx\nUid:\t4294967294\t4294967294\t4294967294\t4294967294", 4294967294, true},
		{"Name:\tx\nGid:\t0\t0\t0\t0\n", 0, false},
		{"Name:\tx\nUid:\t7\n", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		uid, ok := parseEUID([]byte(tt.in))
		if uid != tt.uid || ok != tt.okay {
			t.Errorf("parseEUID(%q) = %d, %v; want %d, %v", tt.in, uid, ok, tt.uid, tt.okay)
		}
	}
}

func TestSplitArgs(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"\x00", nil},
		{"sleep\x0030\x00", []string{"sleep", "30"}},
		{"a\x00\x00b\x00", []string{"a", "", "b"}},
		{"nginx: worker process", []string{"nginx: worker process"}}, // rewritten title
	}
	for _, tt := range tests {
		if got := splitArgs([]byte(tt.in)); !slices.Equal(got, tt.want) {
			t.Errorf("splitArgs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestStatusOf(t *testing.T) {
	want := map[byte]Status{
		'R': StatusRunning, 'S': StatusSleeping, 'D': StatusDiskSleep, 'T': StatusStopped,
		't': StatusStopped, 'Z': StatusZombie, 'I': StatusIdle, 'X': StatusDead, 'P': StatusUnknown,
	}
	for c, s := range want {
		if got := statusOf(c); got != s {
			t.Errorf("statusOf(%q) = %v, want %v", c, got, s)
		}
	}
}

// fakeProc builds a /proc-like tree for the cases a live system cannot
// produce on demand.
func fakeProc(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	write := func(rel, data string) {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("stat", "cpu  1 2 3\nbtime 1700000000\nprocesses 9\n")
	write("uptime", "100.25 180.00\n")
	write("self/stat", "ignored")
	write("sys/x", "")
	// 100: a process whose other files vanished after its stat was read.
	write("100/stat", "100 (gone) S 1 100 100 0 -1 0 0 0 0 0 5 5 0 0 20 0 1 0 200 4096 2\n")
	// 101: a complete one with a truncated comm.
	write("101/stat", "101 (a-very-long-pro) R 100 101 101 0 -1 0 0 0 0 0 150 50 0 0 20 0 4 0 300 8192 3\n")
	write("101/status", "Name:\ta-very-long-pro\nUid:\t0\t0\t0\t0\n")
	write("101/cmdline", "/opt/a-very-long-program\x00--flag\x00")
	// 102: a kernel thread (PF_KTHREAD) whose comm is 15 bytes.
	write("102/stat", "102 (kworker/0:1-eve) I 2 0 0 0 -1 2129984 0 0 0 0 0 3 0 0 20 0 1 0 10 0 0\n")
	write("102/status", "Name:\tkworker/0:1-eve\nUid:\t0\t0\t0\t0\n")
	return root
}

func TestProcReaderFake(t *testing.T) {
	r := newProcReader(fakeProc(t))
	ps, s, err := r.read(context.Background(), &query{need: FieldsAll})
	if err != nil {
		t.Fatal(err)
	}
	Sort(ps, SortPID) // a temp dir lists in no particular order
	if len(ps) != 3 || ps[0].PID != 100 || ps[1].PID != 101 || ps[2].PID != 102 {
		t.Fatalf("got %+v, want pids 100, 101, 102", ps)
	}
	if !s.complete || len(s.samples) != 3 || s.startSkew < 0 || s.startSkew >= time.Second {
		t.Fatalf("scan = %+v", s)
	}

	gone := ps[0]
	if gone.Name != "gone" || gone.Unavailable != FieldUser|FieldExe|FieldArgs {
		t.Fatalf("vanished process: name %q, unavailable %#x", gone.Name, gone.Unavailable)
	}

	p := ps[1]
	boot := time.Unix(1700000000, 0)
	if p.PPID != 100 || !p.StartTime.Equal(boot.Add(3*time.Second)) {
		t.Fatalf("ppid %d start %v", p.PPID, p.StartTime)
	}
	if p.Name != "a-very-long-program" || !slices.Equal(p.Args, []string{"/opt/a-very-long-program", "--flag"}) {
		t.Fatalf("name %q args %q", p.Name, p.Args)
	}
	if p.User == "" || p.UID != 0 || p.Status != StatusRunning || p.Threads != 4 {
		t.Fatalf("user %q uid %d status %v threads %d", p.User, p.UID, p.Status, p.Threads)
	}
	if p.CPUUser != 1500*time.Millisecond || p.CPUSystem != 500*time.Millisecond {
		t.Fatalf("cpu %v+%v", p.CPUUser, p.CPUSystem)
	}
	if p.RSS != 3*uint64(os.Getpagesize()) || p.VMS != 8192 {
		t.Fatalf("rss %d vms %d", p.RSS, p.VMS)
	}
	// No exe link in the fake tree: unavailable, and nothing else.
	if p.Unavailable != FieldExe {
		t.Fatalf("unavailable %#x, want exe only", p.Unavailable)
	}

	k := ps[2]
	if k.Name != "kworker/0:1-eve" || k.Exe != "" || k.Args != nil || k.Unavailable != 0 || k.Status != StatusIdle {
		t.Fatalf("kernel thread: %+v", k)
	}

	n, err := r.count(context.Background())
	if err != nil || n != 3 {
		t.Fatalf("count = %d, %v; want 3", n, err)
	}
}

func TestProcReaderFakeFilters(t *testing.T) {
	r := newProcReader(fakeProc(t))
	tests := []struct {
		name string
		q    query
		want []int32
	}{
		{"glob on resolved name", query{need: FieldName, filter: Filter{NameGlob: "a-very-long-prog*"}}, []int32{101}},
		{"ppid", query{filter: Filter{PPID: ptr[int32](2)}}, []int32{102}},
		{"user drops unreadable", query{need: FieldUser, filter: Filter{User: "root"}}, []int32{101, 102}},
		{"pids", query{pids: []int32{102, 999}}, []int32{102}},
		{"samples only", query{need: FieldCPU, samplesOnly: true}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps, s, err := r.read(context.Background(), &tt.q)
			if err != nil {
				t.Fatal(err)
			}
			Sort(ps, SortPID)
			var pids []int32
			for _, p := range ps {
				pids = append(pids, p.PID)
			}
			if !slices.Equal(pids, tt.want) {
				t.Fatalf("pids = %v, want %v", pids, tt.want)
			}
			// Every process read feeds the CPU history, filtered or not.
			if tt.q.pids == nil && len(s.samples) != 3 {
				t.Fatalf("%d samples, want 3", len(s.samples))
			}
		})
	}
}

func TestBootTime(t *testing.T) {
	root := fakeProc(t)
	boot, skew, err := bootTime(root)
	if err != nil {
		t.Fatal(err)
	}
	if !boot.Equal(time.Unix(1700000000, 0)) || skew != 0 { // uptime disagrees with btime: no skew
		t.Fatalf("boot %v skew %v", boot, skew)
	}
	if _, _, err := bootTime(t.TempDir()); err == nil {
		t.Fatal("bootTime on an empty dir succeeded")
	}
	boot, skew, err = bootTime("/proc")
	if err != nil {
		t.Fatal(err)
	}
	if boot.After(time.Now()) || skew < 0 || skew >= time.Second {
		t.Fatalf("live boot %v skew %v", boot, skew)
	}
}
