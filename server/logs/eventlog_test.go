package logs

import (
	"errors"
	"testing"
	"time"

	"github.com/remotectl/remotectl/internal/errdefs"
)

func TestEventQuery(t *testing.T) {
	since := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	cases := []struct {
		name  string
		src   Source
		max   Priority
		since time.Time
		after uint64
		want  string
	}{
		{"all", Source{Channel: "System"}, 0, time.Time{}, 0, "*"},
		{"provider and warnings", Source{Channel: "Application", Provider: "nginx"}, PriorityWarning, time.Time{}, 0,
			"*[System[Provider[@Name='nginx'] and (Level=1 or Level=2 or Level=3)]]"},
		{"since and after", Source{Channel: "System"}, 0, since, 42,
			"*[System[TimeCreated[@SystemTime>='2026-11-26T09:00:00.000Z'] and EventRecordID>42]]"},
		{"info includes LogAlways", Source{Channel: "System"}, PriorityInfo, time.Time{}, 0,
			"*[System[(Level=0 or Level=1 or Level=2 or Level=3 or Level=4)]]"},
		{"own xpath wins", Source{Channel: "System", XPath: "*[System[EventID=7036]]", Provider: "x"}, PriorityErr, since, 9,
			"*[System[EventID=7036]]"},
	}
	for _, c := range cases {
		got, err := eventQuery(c.src, c.max, c.since, c.after)
		if err != nil || got != c.want {
			t.Errorf("%s: %q, %v\nwant %q", c.name, got, err, c.want)
		}
	}
	if _, err := eventQuery(Source{Channel: "System", Provider: "x' or '1'='1"}, 0, time.Time{}, 0); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("a quote in the provider must be refused: %v", err)
	}
}

// capturedEvent is a System record in the layout EvtRender
// (EvtRenderEventXml) produces (the event schema; written for this test,
// not captured from a Windows host: Wine's wevtapi cannot produce one).
const capturedEvent = `<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Service Control Manager' Guid='{555908d1-a6d7-4695-8e1e-26931d2012f4}' EventSourceName='Service Control Manager'/><EventID Qualifiers='16384'>7036</EventID><Version>0</Version><Level>4</Level><Task>0</Task><Opcode>0</Opcode><Keywords>0x8080000000000000</Keywords><TimeCreated SystemTime='2026-11-26T09:41:07.1234567Z'/><EventRecordID>18236</EventRecordID><Correlation/><Execution ProcessID='708' ThreadID='5380'/><Channel>System</Channel><Computer>WIN-TEST</Computer><Security/></System><EventData><Data Name='param1'>Print Spooler</Data><Data Name='param2'>stopped</Data><Binary>530070006F006F006C00650072002F0031000000</Binary></EventData></Event>`

func TestParseEventXML(t *testing.T) {
	e, id, err := parseEventXML(capturedEvent, "", 1024)
	if err != nil {
		t.Fatal(err)
	}
	want := Entry{Time: time.Date(2026, 11, 26, 9, 41, 7, 123456700, time.UTC), Source: "eventlog:System",
		Message: "param1=Print Spooler param2=stopped", Provider: "Service Control Manager", PID: 708, EventID: 7036,
		Priority: PriorityInfo, Cursor: "e1:18236:System"}
	if id != 18236 || e != want {
		t.Fatalf("got %+v (record %d)\nwant %+v", e, id, want)
	}
	// The provider's formatted message wins over the data values.
	e, _, _ = parseEventXML(capturedEvent, "The Print Spooler service entered the stopped state.\r\n", 1024)
	if e.Message != "The Print Spooler service entered the stopped state." {
		t.Fatalf("formatted message: %q", e.Message)
	}
	if _, _, err := parseEventXML("<Event><System>", "", 10); !errors.Is(err, errdefs.ErrInternal) {
		t.Fatalf("broken XML: %v", err)
	}
	got, err := parseEvtCursor(e.Cursor, "system")
	if err != nil || got != 18236 {
		t.Fatalf("cursor: %d, %v", got, err)
	}
	for _, bad := range []string{"e1:x:System", "e1:5:Application", "f1:5:System", "e1:5"} {
		if _, err := parseEvtCursor(bad, "System"); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("parseEvtCursor(%q) = %v", bad, err)
		}
	}
}
