package server

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/remotectl/remotectl/client"
	"github.com/remotectl/remotectl/internal/errdefs"
	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
	"github.com/remotectl/remotectl/server/process"
	"github.com/remotectl/remotectl/server/service"
)

// fakeSignaler records requests and answers with a fixed exit.
type fakeSignaler struct {
	mu   sync.Mutex
	got  []process.SignalRequest
	exit process.Exit
	err  error
}

func (f *fakeSignaler) Signal(_ context.Context, r process.SignalRequest) (process.Exit, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, r)
	return f.exit, f.err
}

func TestSignalProcessAPI(t *testing.T) {
	start := time.Unix(1700000000, 120_000_000)
	lister := pidLister{procs: []process.Process{{PID: 4242, Name: "sleep", StartTime: start, User: "root", Args: []string{"sleep", "9"}}}}
	sig := &fakeSignaler{exit: process.Exit{Exited: true, Known: true, SignalNumber: 9, Signal: process.SignalKill, Waited: 3 * time.Millisecond}}
	c := startBufconn(t, Config{Processes: lister, Services: &stubManager{}, Signaler: sig})
	ctx := context.Background()

	r, err := c.SignalProcess(ctx, 4242, start, client.SignalOptions{Signal: pb.ProcessSignal_PROCESS_SIGNAL_KILL, Wait: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if !r.GetExited() || r.GetExitSignal() != pb.ProcessSignal_PROCESS_SIGNAL_KILL || r.GetExitSignalNumber() != 9 || r.ExitCode != nil ||
		r.GetProcess().GetName() != "sleep" || r.GetProcess().GetUser() != "root" {
		t.Fatalf("response %v", r)
	}
	got := sig.got[0]
	if got.Target.PID != 4242 || !got.Target.StartTime.Equal(start) || got.Signal != process.SignalKill || got.Wait != time.Second || got.ExitCode != process.DefaultExitCode {
		t.Fatalf("signaler got %+v", got)
	}
	// Unset signal means TERM; exit code passes through.
	code := uint32(7)
	sig.exit = process.Exit{Exited: true, Known: true, Code: 7}
	if r, err = c.SignalProcess(ctx, 4242, start, client.SignalOptions{ExitCode: &code}); err != nil || r.GetExitCode() != 7 || r.ExitSignalNumber != nil {
		t.Fatalf("%v, %v", r, err)
	}
	if g := sig.got[1]; g.Signal != process.SignalTerm || g.ExitCode != 7 {
		t.Fatalf("signaler got %+v", g)
	}

	bad := []struct {
		name string
		req  *pb.SignalProcessRequest
		want string
	}{
		{"no start time", &pb.SignalProcessRequest{Pid: 4242}, "start time is required"},
		{"bad start time", &pb.SignalProcessRequest{Pid: 4242, StartTime: &timestamppb.Timestamp{Nanos: -1}}, "start_time"},
		{"unknown signal", &pb.SignalProcessRequest{Pid: 4242, StartTime: timestamppb.New(start), Signal: 99}, "unknown signal"},
		{"wait too long", &pb.SignalProcessRequest{Pid: 4242, StartTime: timestamppb.New(start), Wait: durationpb.New(time.Hour)}, "wait"},
		{"negative pid", &pb.SignalProcessRequest{Pid: -4, StartTime: timestamppb.New(start)}, "pid -4"},
	}
	procs := pb.NewProcessServiceClient(c.Conn())
	for _, b := range bad {
		if _, err := procs.SignalProcess(ctx, b.req); status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%s: %v; want InvalidArgument mentioning %q", b.name, err, b.want)
		}
	}
	if len(sig.got) != 2 {
		t.Errorf("signaler called for invalid requests: %d calls", len(sig.got))
	}
}

// startTyper is a Manager that also sets start types.
type startTyper struct {
	stubManager
	got []service.StartType
	now []bool
}

func (s *startTyper) SetStartType(_ context.Context, name string, t service.StartType, o service.StartTypeOptions) (service.StartTypeResult, error) {
	s.got, s.now = append(s.got, t), append(s.now, o.Now)
	return service.StartTypeResult{Service: service.Service{Name: name, StartType: t, NativeStartType: "x"}, PreviousStartType: service.StartTypeManual,
		PreviousNativeStartType: "disabled", PreviousState: service.StateStopped, Changed: true}, nil
}

func TestSetServiceStartTypeAPI(t *testing.T) {
	st := &startTyper{}
	c := startBufconn(t, Config{Processes: pidLister{}, Services: st})
	ctx := context.Background()
	for p, d := range map[pb.ServiceStartType]service.StartType{
		pb.ServiceStartType_SERVICE_START_TYPE_AUTOMATIC: service.StartTypeAutomatic, pb.ServiceStartType_SERVICE_START_TYPE_AUTOMATIC_DELAYED: service.StartTypeAutomaticDelayed,
		pb.ServiceStartType_SERVICE_START_TYPE_MANUAL: service.StartTypeManual, pb.ServiceStartType_SERVICE_START_TYPE_DISABLED: service.StartTypeDisabled,
	} {
		r, err := c.SetServiceStartType(ctx, "web", p, true, 0)
		if err != nil || r.GetService().GetStartType() != p || r.GetPreviousStartType() != pb.ServiceStartType_SERVICE_START_TYPE_MANUAL ||
			r.GetPreviousNativeStartType() != "disabled" || !r.GetChanged() {
			t.Fatalf("%v: %v, %v", p, r, err)
		}
		if st.got[len(st.got)-1] != d || !st.now[len(st.now)-1] {
			t.Fatalf("%v reached the backend as %v", p, st.got)
		}
	}
	if _, err := c.SetServiceStartType(ctx, "web", pb.ServiceStartType_SERVICE_START_TYPE_UNSPECIFIED, false, 0); status.Code(err) != codes.InvalidArgument {
		t.Errorf("unspecified start type: %v", err)
	}
	if _, err := c.SetServiceStartType(ctx, "../x", pb.ServiceStartType_SERVICE_START_TYPE_MANUAL, false, 0); status.Code(err) != codes.InvalidArgument {
		t.Errorf("bad name: %v", err)
	}
	// A backend without start types (macOS, stubs) answers UNIMPLEMENTED.
	c2 := startBufconn(t, Config{Processes: pidLister{}, Services: &stubManager{}})
	if _, err := c2.SetServiceStartType(ctx, "web", pb.ServiceStartType_SERVICE_START_TYPE_MANUAL, false, 0); !errors.Is(err, errdefs.ErrNotSupported) {
		t.Errorf("no backend: %v", err)
	}
}
