package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/remotectl/remotectl/client"
	"github.com/remotectl/remotectl/internal/testutil"
	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
)

// subscribers opens n WatchProcesses streams for the test's children over
// conns mutual-TLS connections; each counts the STARTED and EXITED events of
// the PIDs it sees.
type subscribers struct {
	subs    []*subscriber
	mu      sync.Mutex
	errs    []error
	wg      sync.WaitGroup
	clients []*client.Client
}

// subscriber is one stream's tally, locked apart from the others so the
// readers do not contend.
type subscriber struct {
	mu      sync.Mutex
	counts  map[int32]int // pid -> STARTED/EXITED events
	resyncs int
}

func openSubscribers(ctx context.Context, t testing.TB, a *agentUnderTest, n, conns int) *subscribers {
	t.Helper()
	me := int32(os.Getpid())
	s := &subscribers{subs: make([]*subscriber, n)}
	clients := make([]*client.Client, conns)
	for i := range clients {
		clients[i] = a.client(t)
	}
	s.clients = clients
	for i := range n {
		sub := &subscriber{counts: map[int32]int{}}
		s.subs[i] = sub
		w, err := clients[i%conns].WatchProcesses(ctx, &pb.WatchProcessesRequest{Filter: &pb.ProcessFilter{Ppid: &me},
			Fields: []pb.ProcessField{pb.ProcessField_PROCESS_FIELD_NAME}})
		if err != nil {
			t.Fatalf("subscriber %d: %v", i, err)
		}
		s.wg.Go(func() {
			for ev := range w.Events() {
				sub.mu.Lock()
				switch ev.GetType() {
				case pb.ProcessEventType_PROCESS_EVENT_TYPE_STARTED, pb.ProcessEventType_PROCESS_EVENT_TYPE_EXITED:
					sub.counts[ev.GetProcess().GetPid()]++
				case pb.ProcessEventType_PROCESS_EVENT_TYPE_RESYNC:
					sub.resyncs++
				}
				sub.mu.Unlock()
			}
			if err := w.Err(); err != nil {
				s.mu.Lock()
				s.errs = append(s.errs, err)
				s.mu.Unlock()
			}
		})
	}
	return s
}

// missing describes, for the first incomplete subscriber, the pids whose
// STARTED/EXITED count is not 2.
func (s *subscribers) missing(pids []int32) string {
	for i, sub := range s.subs {
		sub.mu.Lock()
		var bad []string
		for _, pid := range pids {
			if n := sub.counts[pid]; n != 2 {
				bad = append(bad, fmt.Sprintf("%d:%d", pid, n))
			}
		}
		sub.mu.Unlock()
		if len(bad) > 0 {
			return fmt.Sprintf("subscriber %d: %d pids with a count other than 2 (pid:count) %v", i, len(bad), bad[:min(len(bad), 10)])
		}
	}
	return "none"
}

// complete reports how many subscribers saw exactly STARTED+EXITED for
// every pid, and how many RESYNC events they got in all.
func (s *subscribers) complete(pids []int32) (ok, resyncs int) {
	for _, sub := range s.subs {
		sub.mu.Lock()
		all := true
		for _, pid := range pids {
			if sub.counts[pid] != 2 {
				all = false
				break
			}
		}
		resyncs += sub.resyncs
		sub.mu.Unlock()
		if all {
			ok++
		}
	}
	return ok, resyncs
}

// churn starts a short-lived child every interval, n times, and returns
// their PIDs once all exited.
func churn(t testing.TB, prog string, args []string, n int, interval time.Duration) []int32 {
	t.Helper()
	var (
		mu   sync.Mutex
		pids []int32
		wg   sync.WaitGroup
	)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for range n {
		<-tick.C
		cmd := exec.Command(prog, args...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		pids = append(pids, int32(cmd.Process.Pid))
		mu.Unlock()
		wg.Go(func() { _ = cmd.Wait() })
	}
	wg.Wait()
	return pids
}

// A thousand subscribers over four mutual-TLS connections all receive every
// event of a burst of short-lived processes; once they disconnect and the
// agent stops, no goroutine is left behind.
func TestWatch1000SubscribersOverMTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 1000 streams; skipped under -short")
	}
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	a := startEngineAgent(t, devPKI(t), "127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	subs := openSubscribers(ctx, t, &a.agentUnderTest, 1000, 4)

	// With polling (not root) a child must outlive a poll to be seen.
	prog, args := "true", []string{}
	if os.Geteuid() != 0 {
		prog, args = "sleep", []string{"0.3"}
	}
	pids := churn(t, prog, args, 20, 20*time.Millisecond)
	// A condition over 1000 streams' counters, polled (bounded).
	testutil.Poll(20*time.Second, func() bool { n, _ := subs.complete(pids); return n == 1000 })
	if n, resyncs := subs.complete(pids); n != 1000 || resyncs != 0 {
		t.Fatalf("%d of 1000 subscribers saw STARTED and EXITED of all %d processes; %d RESYNC; %s", n, len(pids), resyncs, subs.missing(pids))
	}
	cancel()
	subs.wg.Wait()
	if len(subs.errs) != 0 {
		t.Fatalf("%d streams ended with errors, e.g. %v", len(subs.errs), subs.errs[0])
	}
	for _, c := range subs.clients {
		_ = c.Close()
	}
	a.stop()
}
