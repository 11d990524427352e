package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/remotectl/remotectl/client"
	"github.com/remotectl/remotectl/internal/pki"
	"github.com/remotectl/remotectl/internal/testutil/tlstest"
	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
	"github.com/remotectl/remotectl/server"
	"github.com/remotectl/remotectl/server/watch"
	"github.com/remotectl/remotectl/test/agenttest"
)

// engineAgent is a real agent with the daemon's watch engine (netlink when
// root, else polling every 100 ms) that can be stopped and started again on
// the same address, like a restarted daemon.
type engineAgent struct {
	agentUnderTest
	stop func()
	mode string
}

func startEngineAgent(tb testing.TB, paths pki.Paths, addr string) *engineAgent {
	tb.Helper()
	return startEngineAgentWith(tb, paths, addr, watch.Config{Interval: 100 * time.Millisecond})
}

func startEngineAgentWith(tb testing.TB, paths pki.Paths, addr string, wcfg watch.Config) *engineAgent {
	tb.Helper()
	a := agenttest.Start(tb, agenttest.WithPKI(&tlstest.PKI{Paths: paths}), agenttest.Listen(addr), agenttest.Engine(wcfg),
		agenttest.Configure(func(c *server.Config) {
			c.Limits = server.Limits{StreamsPerIdentity: 4096} // the scale tests hold 1000 streams
		}))
	tb.Logf("watch engine mode: %s", a.WatchMode)
	return &engineAgent{agentUnderTest{addr: a.Addr, certs: paths, srv: a.Server}, a.Stop, a.WatchMode}
}

func devPKI(tb testing.TB) pki.Paths {
	_, paths, err := pki.EnsureDevPKI(tb.TempDir(), []string{"127.0.0.1", "localhost"})
	if err != nil {
		tb.Fatal(err)
	}
	return paths
}

func expectEvent(t *testing.T, events <-chan *pb.ProcessEvent, typ pb.ProcessEventType, pid int) *pb.ProcessEvent {
	t.Helper()
	ev := recvEvent(t, events, 10*time.Second)
	if ev.GetType() != typ || pid != 0 && ev.GetProcess().GetPid() != int32(pid) {
		t.Fatalf("got %v pid %d seq %d, want %v pid %d", ev.GetType(), ev.GetProcess().GetPid(), ev.GetSequence(), typ, pid)
	}
	return ev
}

// A stream opened with resume_after_sequence continues exactly after that
// event, without a snapshot even when include_existing is set.
func TestWatchResumesAfterSequence(t *testing.T) {
	a := startEngineAgent(t, devPKI(t), "127.0.0.1:0")
	c := a.client(t)
	name := uniqueName("rctlr-")
	bin := namedSleep(t, name)
	req := &pb.WatchProcessesRequest{Filter: &pb.ProcessFilter{NameGlob: name}}

	ctx, cancel := context.WithCancel(context.Background())
	w, err := c.WatchProcesses(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	// An observer on its own stream tells when the engine has seen the
	// second child, while the stream to be resumed is closed.
	observer, err := c.WatchProcesses(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	first := spawn(t, bin, "30")
	seen := expectEvent(t, w.Events(), pb.ProcessEventType_PROCESS_EVENT_TYPE_STARTED, first.Process.Pid)
	expectEvent(t, observer.Events(), pb.ProcessEventType_PROCESS_EVENT_TYPE_STARTED, first.Process.Pid)
	cancel()

	second := spawn(t, bin, "30") // while the resumed stream is closed
	expectEvent(t, observer.Events(), pb.ProcessEventType_PROCESS_EVENT_TYPE_STARTED, second.Process.Pid)
	rctx, rcancel := context.WithCancel(context.Background())
	defer rcancel()
	r, err := c.WatchProcesses(rctx, &pb.WatchProcessesRequest{Filter: req.Filter, IncludeExisting: true, ResumeAfterSequence: seen.GetSequence()})
	if err != nil {
		t.Fatal(err)
	}
	ev := expectEvent(t, r.Events(), pb.ProcessEventType_PROCESS_EVENT_TYPE_STARTED, second.Process.Pid)
	if ev.GetSequence() <= seen.GetSequence() {
		t.Fatalf("resumed event seq %d not after %d", ev.GetSequence(), seen.GetSequence())
	}
	_ = first.Process.Kill()
	expectEvent(t, r.Events(), pb.ProcessEventType_PROCESS_EVENT_TYPE_EXITED, first.Process.Pid)
}

// FollowProcesses rides out an agent restart: it reconnects by itself, the
// new agent cannot resume the old numbering, so the caller gets RESYNC and
// a snapshot, then live events.
func TestFollowProcessesSurvivesAgentRestart(t *testing.T) {
	paths := devPKI(t)
	a := startEngineAgent(t, paths, "127.0.0.1:0")
	c := a.client(t)
	name := uniqueName("rctlf-")
	bin := namedSleep(t, name)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reconnects := make(chan error, 100)
	w, err := c.FollowProcesses(ctx, &pb.WatchProcessesRequest{Filter: &pb.ProcessFilter{NameGlob: name}},
		client.FollowOptions{MinBackoff: 50 * time.Millisecond, MaxBackoff: 500 * time.Millisecond,
			OnReconnect: func(err error, _ time.Duration) { reconnects <- err }})
	if err != nil {
		t.Fatal(err)
	}
	first := spawn(t, bin, "30")
	expectEvent(t, w.Events(), pb.ProcessEventType_PROCESS_EVENT_TYPE_STARTED, first.Process.Pid)

	a.stop()
	second := spawn(t, bin, "30") // started while the agent is down
	startEngineAgent(t, paths, a.addr)

	expectEvent(t, w.Events(), pb.ProcessEventType_PROCESS_EVENT_TYPE_RESYNC, 0)
	got := map[int32]bool{}
	for {
		ev := recvEvent(t, w.Events(), 10*time.Second)
		if ev.GetType() == pb.ProcessEventType_PROCESS_EVENT_TYPE_SYNCED {
			break
		}
		if ev.GetType() != pb.ProcessEventType_PROCESS_EVENT_TYPE_EXISTING {
			t.Fatalf("in the snapshot: %v", ev)
		}
		got[ev.GetProcess().GetPid()] = true
	}
	if !got[int32(first.Process.Pid)] || !got[int32(second.Process.Pid)] || len(got) != 2 {
		t.Fatalf("snapshot after restart holds %v, want pids %d and %d", got, first.Process.Pid, second.Process.Pid)
	}
	third := spawn(t, bin, "30")
	expectEvent(t, w.Events(), pb.ProcessEventType_PROCESS_EVENT_TYPE_STARTED, third.Process.Pid)
	if len(reconnects) == 0 {
		t.Fatal("OnReconnect never called")
	}
}
