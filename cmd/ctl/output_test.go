package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/remotectl/remotectl/client"
	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
)

func regexpMatch(re, s string) bool { return regexp.MustCompile(re).MatchString(s) }

var testNow = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

// testApp prints into a buffer with a fixed clock and UTC.
func testApp(format string, width int) (*app, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	a := newApp(&out, &errb, envOf(nil))
	a.now = func() time.Time { return testNow }
	a.out = &output{w: &out, format: format, width: width, now: a.now, loc: time.UTC}
	return a, &out, &errb
}

func ts(s string) *timestamppb.Timestamp {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return timestamppb.New(t)
}

func sampleProcesses() []*pb.Process {
	uid := int64(0)
	return []*pb.Process{
		{Pid: 1, Ppid: 0, StartTime: ts("2026-03-10T08:00:00.123456789Z"), Name: "systemd", Exe: "/sbin/init",
			Args: []string{"/sbin/init", "splash"}, User: "root", Uid: &uid, Status: pb.ProcessStatus_PROCESS_STATUS_SLEEPING,
			CpuUserTime: durationpb.New(1500 * time.Millisecond), CpuSystemTime: durationpb.New(250 * time.Millisecond),
			CpuPercent: 0.5, CpuPercentWindow: durationpb.New(time.Second),
			ResidentMemoryBytes: 12897484, VirtualMemoryBytes: 175000000, ThreadCount: 1},
		{Pid: 2, Ppid: 0, StartTime: ts("2026-02-01T00:00:00Z"), Name: "kthreadd", User: "root", Uid: &uid,
			Status: pb.ProcessStatus_PROCESS_STATUS_SLEEPING, ThreadCount: 1},
		{Pid: 4242, Ppid: 1, StartTime: ts("2025-12-31T23:00:00Z"), Name: "bash", Exe: "/bin/bash",
			Args: []string{"bash", "-c", "echo\thi\x1b[2J"}, Status: pb.ProcessStatus_PROCESS_STATUS_ZOMBIE,
			CpuPercent: 99.94, ResidentMemoryBytes: 4096, VirtualMemoryBytes: 1 << 30, ThreadCount: 3,
			UnavailableFields: []pb.ProcessField{pb.ProcessField_PROCESS_FIELD_USER}},
	}
}

func TestPsTable(t *testing.T) {
	a, out, _ := testApp(formatTable, 0)
	if err := a.printProcesses(sampleProcesses(), allFields()); err != nil {
		t.Fatal(err)
	}
	want := `PID   PPID  USER  S  CPU%  RSS    VSZ     THR  STARTED   COMMAND
1     0     root  S  0.5   12.3M  166.9M  1    08:00:00  /sbin/init splash
2     0     root  S  0.0   0B     0B      1    Feb01     [kthreadd]
4242  1     -     Z  99.9  4.0K   1.0G    3    2025      bash -c echo\thi\x1b[2J
`
	if out.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestPsTableTruncatesToTerminalWidth(t *testing.T) {
	a, out, _ := testApp(formatTable, 66)
	if err := a.printProcesses(sampleProcesses(), allFields()); err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		if n := len([]rune(l)); n > 66 {
			t.Errorf("line of %d runes: %q", n, l)
		}
	}
	if !strings.Contains(out.String(), "08:00:00  /sbin/in…\n") {
		t.Errorf("COMMAND not cut with an ellipsis:\n%s", out.String())
	}
}

func TestPsTableSelectedFields(t *testing.T) {
	a, out, _ := testApp(formatTable, 0)
	fields := fieldSet{pb.ProcessField_PROCESS_FIELD_NAME: true}
	p := &pb.Process{Pid: 7, Ppid: 1, Name: "sshd"}
	if err := a.printProcesses([]*pb.Process{p}, fields); err != nil {
		t.Fatal(err)
	}
	want := "PID  PPID  USER  S  CPU%  RSS  VSZ  THR  STARTED  COMMAND\n7    1     -     -  -     -    -    -    -        sshd\n"
	if out.String() != want {
		t.Errorf("got:\n%q\nwant:\n%q", out.String(), want)
	}
}

func jsonKeys(t *testing.T, v any) []string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func TestProcessJSON(t *testing.T) {
	procs := sampleProcesses()
	full := newProcessView(procs[0], allFields())
	want := []string{"args", "cpu_percent", "cpu_percent_window_seconds", "cpu_system_seconds", "cpu_user_seconds", "exe", "name",
		"pid", "ppid", "rss_bytes", "start_time", "status", "threads", "uid", "user", "vsz_bytes"}
	if got := jsonKeys(t, full); !slices.Equal(got, want) {
		t.Errorf("keys = %v\nwant   %v", got, want)
	}
	b, _ := json.Marshal(full)
	for _, frag := range []string{`"start_time":"2026-03-10T08:00:00.123456789Z"`, `"status":"sleeping"`, `"cpu_user_seconds":1.5`,
		`"cpu_system_seconds":0.25`, `"rss_bytes":12897484`, `"uid":0`, `"args":["/sbin/init","splash"]`} {
		if !strings.Contains(string(b), frag) {
			t.Errorf("%s lacks %s", b, frag)
		}
	}

	// A kernel thread has empty args (present), and zero sizes stay present.
	kt, _ := json.Marshal(newProcessView(procs[1], allFields()))
	for _, frag := range []string{`"args":[]`, `"rss_bytes":0`, `"exe":""`} {
		if !strings.Contains(string(kt), frag) {
			t.Errorf("%s lacks %s", kt, frag)
		}
	}

	// Unreadable fields are absent and named.
	un := newProcessView(procs[2], allFields())
	if un.User != nil || !slices.Equal(un.UnavailableFields, []string{"user"}) {
		t.Errorf("unavailable user: %+v", un)
	}

	// Unrequested fields are absent.
	only := newProcessView(procs[0], fieldSet{pb.ProcessField_PROCESS_FIELD_NAME: true})
	if got := jsonKeys(t, only); !slices.Equal(got, []string{"name", "pid", "ppid", "start_time"}) {
		t.Errorf("--fields name keys = %v", got)
	}
}

func TestPsJSONIsOneArray(t *testing.T) {
	a, out, _ := testApp(formatJSON, 0)
	if err := a.printProcesses(nil, allFields()); err != nil {
		t.Fatal(err)
	}
	if out.String() != "[]\n" {
		t.Errorf("empty list = %q, want []", out.String())
	}
}

// TestServiceEventViewJSON: svc watch lines start with the same seq, time
// and type as ps watch lines, then the documented keys (ctl svc watch --help).
func TestServiceEventViewJSON(t *testing.T) {
	for _, tc := range []struct {
		ev   *pb.ServiceEvent
		want string
	}{
		{&pb.ServiceEvent{Sequence: 3, Time: ts("2026-03-10T11:59:58Z"), Type: pb.ServiceEventType_SERVICE_EVENT_TYPE_CHANGED,
			Name: "nginx.service", OldState: pb.ServiceState_SERVICE_STATE_RUNNING, NewState: pb.ServiceState_SERVICE_STATE_STOPPING,
			NativeState: "deactivating/stop-sigterm"},
			`{"seq":3,"time":"2026-03-10T11:59:58Z","type":"CHANGED","name":"nginx.service","old_state":"running","new_state":"stopping","native_state":"deactivating/stop-sigterm","main_pid":0}`},
		{&pb.ServiceEvent{Sequence: 4, Time: ts("2026-03-10T11:59:59Z"), Type: pb.ServiceEventType_SERVICE_EVENT_TYPE_SYNCED, Name: "ignored"},
			`{"seq":4,"time":"2026-03-10T11:59:59Z","type":"SYNCED","main_pid":0}`},
	} {
		if b, _ := json.Marshal(newServiceEventView(tc.ev)); string(b) != tc.want {
			t.Errorf("JSON\n got %s\nwant %s", b, tc.want)
		}
	}
}

func TestEventViewAndLine(t *testing.T) {
	a, _, _ := testApp(formatTable, 0)
	p := sampleProcesses()[0]
	ev := &pb.ProcessEvent{Sequence: 12, Time: ts("2026-03-10T11:59:58.5Z"), Type: pb.ProcessEventType_PROCESS_EVENT_TYPE_STARTED, Process: p}
	b, _ := json.Marshal(newEventView(ev, allFields()))
	if !strings.HasPrefix(string(b), `{"seq":12,"time":"2026-03-10T11:59:58.5Z","type":"STARTED","process":{"pid":1,`) {
		t.Errorf("event JSON %s", b)
	}
	if got, want := a.eventLine(newEventView(ev, allFields())), "11:59:58.500  STARTED         1        0  root        systemd          /sbin/init splash"; got != want {
		t.Errorf("line\n%q\nwant\n%q", got, want)
	}
	synced := &pb.ProcessEvent{Sequence: 3, Time: ts("2026-03-10T11:59:58Z"), Type: pb.ProcessEventType_PROCESS_EVENT_TYPE_SYNCED}
	b, _ = json.Marshal(newEventView(synced, allFields()))
	if string(b) != `{"seq":3,"time":"2026-03-10T11:59:58Z","type":"SYNCED"}` {
		t.Errorf("SYNCED JSON %s", b)
	}
	if got := a.eventLine(newEventView(synced, allFields())); !strings.HasPrefix(got, "11:59:58.000  SYNCED          -        -  -") {
		t.Errorf("SYNCED line %q", got)
	}
	header := fmt.Sprintf(watchLine, "TIME", "TYPE", "PID", "PPID", "USER", "NAME", "COMMAND")
	if header != "TIME          TYPE          PID     PPID  USER        NAME             COMMAND" {
		t.Errorf("watch header %q", header)
	}
}

func TestServiceOutput(t *testing.T) {
	svc := &pb.Service{Name: "nginx.service", DisplayName: "nginx", Description: "A high performance web server",
		State: pb.ServiceState_SERVICE_STATE_RUNNING, NativeState: "active/running",
		StartType: pb.ServiceStartType_SERVICE_START_TYPE_AUTOMATIC, NativeStartType: "enabled", MainPid: 812,
		Command: "/usr/sbin/nginx -g 'daemon on;'", Dependencies: []string{"network.target"}}
	stopped := &pb.Service{Name: "cron.service", State: pb.ServiceState_SERVICE_STATE_STOPPED,
		StartType: pb.ServiceStartType_SERVICE_START_TYPE_MANUAL}

	a, out, _ := testApp(formatTable, 0)
	if err := a.printServices([]*pb.Service{stopped, svc}); err != nil {
		t.Fatal(err)
	}
	want := `NAME           STATE    STARTUP    PID  DESCRIPTION
cron.service   stopped  manual     -    -
nginx.service  running  automatic  812  A high performance web server
`
	if out.String() != want {
		t.Errorf("svc ls:\n%s\nwant:\n%s", out.String(), want)
	}

	v := newServiceView(stopped)
	if got := jsonKeys(t, v); !slices.Equal(got, []string{"command", "dependencies", "dependents", "description", "display_name",
		"main_pid", "name", "native_start_type", "native_state", "start_type", "state"}) {
		t.Errorf("service keys %v", got)
	}
	if b, _ := json.Marshal(v); !strings.Contains(string(b), `"dependencies":[],"dependents":[]`) {
		t.Errorf("lists must be arrays: %s", b)
	}

	a, out, _ = testApp(formatTable, 0)
	if err := a.out.kv(serviceKV(newServiceView(svc))); err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"name:         nginx.service\n", "state:        running (active/running)\n",
		"startup:      automatic (enabled)\n", "main pid:     812\n", "dependencies: network.target\n", "dependents:   -\n"} {
		if !strings.Contains(out.String(), l) {
			t.Errorf("svc get lacks %q:\n%s", l, out.String())
		}
	}
}

func TestControlOutput(t *testing.T) {
	running := &pb.Service{Name: "nginx.service", State: pb.ServiceState_SERVICE_STATE_RUNNING}
	stopped := &pb.Service{Name: "nginx.service", State: pb.ServiceState_SERVICE_STATE_STOPPED}
	changed := newControlView(&client.ControlResult{Service: stopped, PreviousState: pb.ServiceState_SERVICE_STATE_RUNNING, Changed: true})
	if got := controlLine(changed); got != "nginx.service: running -> stopped" {
		t.Errorf("changed: %q", got)
	}
	same := newControlView(&client.ControlResult{Service: stopped, PreviousState: pb.ServiceState_SERVICE_STATE_STOPPED})
	if got := controlLine(same); got != "nginx.service: already stopped (no change)" {
		t.Errorf("unchanged: %q", got)
	}
	b, _ := json.Marshal(newControlView(&client.ControlResult{Service: running, PreviousState: pb.ServiceState_SERVICE_STATE_FAILED, Changed: true}))
	if !strings.HasPrefix(string(b), `{"service":{"name":"nginx.service",`) || !strings.HasSuffix(string(b), `},"previous_state":"failed","changed":true}`) {
		t.Errorf("control JSON %s", b)
	}
}

func TestEnumSpellings(t *testing.T) {
	for want, got := range map[string]string{
		"running":           processStatusName(pb.ProcessStatus_PROCESS_STATUS_RUNNING),
		"disk_sleep":        processStatusName(pb.ProcessStatus_PROCESS_STATUS_DISK_SLEEP),
		"unknown":           processStatusName(pb.ProcessStatus_PROCESS_STATUS_UNSPECIFIED),
		"reloading":         serviceStateName(pb.ServiceState_SERVICE_STATE_RELOADING),
		"automatic_delayed": startTypeName(pb.ServiceStartType_SERVICE_START_TYPE_AUTOMATIC_DELAYED),
		"EXISTING":          eventTypeName(pb.ProcessEventType_PROCESS_EVENT_TYPE_EXISTING),
		"UNKNOWN":           eventTypeName(pb.ProcessEventType(99)),
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	if st, ok := parseServiceState(" Failed "); !ok || st != pb.ServiceState_SERVICE_STATE_FAILED {
		t.Errorf("parseServiceState(Failed) = %v %v", st, ok)
	}
}

func TestHeartbeatView(t *testing.T) {
	sent := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	resp := &pb.HeartbeatResponse{Hostname: "web1", Os: "linux", Platform: "debian", PlatformVersion: "12.7",
		KernelVersion: "6.1.0", Architecture: "amd64", AgentVersion: "v0.1.0", AgentCommit: "abc123",
		BootTime: ts("2026-03-07T12:00:00Z"), AgentStartTime: ts("2026-03-10T10:00:00Z"),
		ServerTime: ts("2026-03-10T12:00:01.010Z"), CpuCount: 4, CpuPercent: 12.5, CpuPercentWindow: durationpb.New(time.Second),
		MemoryTotalBytes: 8 << 30, MemoryUsedBytes: 2 << 30, MemoryAvailableBytes: 6 << 30,
		LoadAverage: &pb.LoadAverage{Load1: 0.5, Load5: 0.25, Load15: 0.125}, ProcessCount: 321,
		Backends: []*pb.Backend{{Capability: "services", Implementation: "systemd", Reason: "no bus"}}}
	v := newHeartbeatView(beat{resp: resp, sent: sent, rtt: 20 * time.Millisecond})
	if v.ClockSkewSeconds < 0.9999 || v.ClockSkewSeconds > 1.0001 {
		t.Errorf("skew = %v, want 1s (server time minus the midpoint of the call)", v.ClockSkewSeconds)
	}
	if deref(v.UptimeSeconds) != 3*86400+1.01 || deref(v.AgentUptimeSeconds) != 7201.01 {
		t.Errorf("uptimes %v %v", deref(v.UptimeSeconds), deref(v.AgentUptimeSeconds))
	}
	a, out, _ := testApp(formatTable, 0)
	if err := a.out.kv(a.heartbeatKV(v)); err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{
		"host:          web1\n",
		"os:            linux debian 12.7 (kernel 6.1.0, amd64)\n",
		"agent version: v0.1.0 (abc123)\n",
		"uptime:        3d0h (since 2026-03-07T12:00:00Z)\n",
		"agent uptime:  2h0m (since 2026-03-10T10:00:00Z)\n",
		"cpu:           12.5% of 4 CPUs (over 1s)\n",
		"memory:        2.0G used of 8.0G (25.0%), 6.0G available\n",
		"load:          0.50 0.25 0.12\n",
		"processes:     321\n",
		"backends:      services=systemd (unavailable: no bus)\n",
		"clock skew:    +1s (agent clock minus ours)\n",
		"rtt:           20ms\n",
	} {
		if !strings.Contains(out.String(), l) {
			t.Errorf("heartbeat lacks %q:\n%s", l, out.String())
		}
	}
	up := "-"
	if v.AgentUptimeSeconds != nil {
		up = humanDuration(time.Duration(*v.AgentUptimeSeconds * float64(time.Second)))
	}
	want := "2026-03-10T12:00:00Z host=web1 up=" + up + " cpu=12.5% mem=2.0G/8.0G load=0.50 procs=321 skew=+1s rtt=20ms"
	if got := a.heartbeatLine(v, false); got != want {
		t.Errorf("watch line %q, want %q", got, want)
	}
	if got := a.heartbeatLine(v, true); got != want+" RESTARTED" {
		t.Errorf("watch line after a restart %q", got)
	}
}

func TestHumanBytes(t *testing.T) {
	for n, want := range map[uint64]string{0: "0B", 512: "512B", 1023: "1023B", 1024: "1.0K", 12897484: "12.3M",
		1<<30 - 1: "1.0G", 5 << 40: "5.0T"} {
		if got := humanBytes(n); got != want {
			t.Errorf("humanBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestHumanDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{1500 * time.Microsecond: "1.5ms", 45 * time.Second: "45s",
		12*time.Minute + 3*time.Second: "12m3s", 5*time.Hour + 2*time.Minute: "5h2m", 76 * time.Hour: "3d4h"} {
		if got := humanDuration(d); got != want {
			t.Errorf("humanDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestCleanEscapesControlCharacters(t *testing.T) {
	for in, want := range map[string]string{"plain text": "plain text", "tab\there": `tab\there`,
		"new\nline": `new\nline`, "\x1b[31mred": `\x1b[31mred`, "naïve ✓": "naïve ✓"} {
		if got := clean(in); got != want {
			t.Errorf("clean(%q) = %q, want %q", in, got, want)
		}
	}
}
