package client

import (
	"testing"

	"google.golang.org/protobuf/proto"

	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
)

// TestResumeAfter: both watch requests resume through the same fields,
// keep the rest of the request, and leave the caller's request alone.
func TestResumeAfter(t *testing.T) {
	procs := &pb.WatchProcessesRequest{Filter: &pb.ProcessFilter{NameGlob: "ssh*"}, IncludeExisting: true}
	svcs := &pb.WatchServicesRequest{NameGlob: "nginx*", IncludeExisting: true}
	for _, tc := range []struct {
		name string
		got  proto.Message
		want proto.Message
	}{
		{"processes after 7", resumeAfter(procs, 7), &pb.WatchProcessesRequest{Filter: &pb.ProcessFilter{NameGlob: "ssh*"}, ResumeAfterSequence: 7}},
		{"processes snapshot", resumeAfter(procs, 0), &pb.WatchProcessesRequest{Filter: &pb.ProcessFilter{NameGlob: "ssh*"}, IncludeExisting: true}},
		{"services after 9", resumeAfter(svcs, 9), &pb.WatchServicesRequest{NameGlob: "nginx*", ResumeAfterSequence: 9}},
		{"services snapshot", resumeAfter(svcs, 0), &pb.WatchServicesRequest{NameGlob: "nginx*", IncludeExisting: true}},
		{"nil processes", orEmpty[*pb.WatchProcessesRequest](nil), &pb.WatchProcessesRequest{}},
		{"nil services", orEmpty[*pb.WatchServicesRequest](nil), &pb.WatchServicesRequest{}},
		{"given request kept", orEmpty(svcs), svcs},
	} {
		if !proto.Equal(tc.got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, tc.got, tc.want)
		}
	}
	if procs.GetResumeAfterSequence() != 0 || svcs.GetResumeAfterSequence() != 0 {
		t.Error("resumeAfter changed the caller's request")
	}
}

// TestWatchClassify: both watches tell the follower the same positions,
// and the follower writes each watch's own RESYNC, all found by name.
func TestWatchClassify(t *testing.T) {
	c := &Client{procs: pb.NewProcessServiceClient(nil), svcs: pb.NewServiceManagerClient(nil)}
	ps := newWatchSpec(c.procs.WatchProcesses, (*pb.WatchProcessesResponse).GetEvent)
	ss := newWatchSpec(c.svcs.WatchServices, (*pb.WatchServicesResponse).GetEvent)
	type pt = pb.ProcessEventType
	type st = pb.ServiceEventType
	for _, tc := range []struct {
		p    pt
		s    st
		want position
	}{
		{pb.ProcessEventType_PROCESS_EVENT_TYPE_RESYNC, pb.ServiceEventType_SERVICE_EVENT_TYPE_RESYNC, posSnapshot},
		{pb.ProcessEventType_PROCESS_EVENT_TYPE_EXISTING, pb.ServiceEventType_SERVICE_EVENT_TYPE_EXISTING, posSnapshot},
		{pb.ProcessEventType_PROCESS_EVENT_TYPE_SYNCED, pb.ServiceEventType_SERVICE_EVENT_TYPE_SYNCED, posSynced},
		{pb.ProcessEventType_PROCESS_EVENT_TYPE_STARTED, pb.ServiceEventType_SERVICE_EVENT_TYPE_CHANGED, posLive},
	} {
		if seq, pos := ps.classify(&pb.ProcessEvent{Sequence: 5, Type: tc.p}); seq != 5 || pos != tc.want {
			t.Errorf("%v: %d %v, want 5 %v", tc.p, seq, pos, tc.want)
		}
		if seq, pos := ss.classify(&pb.ServiceEvent{Sequence: 6, Type: tc.s}); seq != 6 || pos != tc.want {
			t.Errorf("%v: %d %v, want 6 %v", tc.s, seq, pos, tc.want)
		}
	}
	if ev := ps.resync(8); ev.GetSequence() != 8 || ev.GetType() != pb.ProcessEventType_PROCESS_EVENT_TYPE_RESYNC {
		t.Errorf("process resync = %v", ev)
	}
	if ev := ss.resync(9); ev.GetSequence() != 9 || ev.GetType() != pb.ServiceEventType_SERVICE_EVENT_TYPE_RESYNC {
		t.Errorf("service resync = %v", ev)
	}
}
