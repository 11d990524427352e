package server

import (
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/remotectl/remotectl/internal/errdefs"
	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
	"github.com/remotectl/remotectl/server/process"
	"github.com/remotectl/remotectl/server/service"
	"github.com/remotectl/remotectl/server/watch"
)

// fieldBits pairs each proto field enum with its domain bit; the order is the
// order unavailable fields are reported in.
var fieldBits = []struct {
	pb  pb.ProcessField
	bit process.Field
}{
	{pb.ProcessField_PROCESS_FIELD_NAME, process.FieldName},
	{pb.ProcessField_PROCESS_FIELD_EXE, process.FieldExe},
	{pb.ProcessField_PROCESS_FIELD_ARGS, process.FieldArgs},
	{pb.ProcessField_PROCESS_FIELD_USER, process.FieldUser},
	{pb.ProcessField_PROCESS_FIELD_STATUS, process.FieldStatus},
	{pb.ProcessField_PROCESS_FIELD_CPU, process.FieldCPU},
	{pb.ProcessField_PROCESS_FIELD_MEMORY, process.FieldMemory},
	{pb.ProcessField_PROCESS_FIELD_THREADS, process.FieldThreads},
}

// fieldsFromProto converts a field selection; empty means all fields.
func fieldsFromProto(fs []pb.ProcessField) (process.Field, error) {
	if len(fs) == 0 {
		return process.FieldsAll, nil
	}
	var out process.Field
next:
	for _, f := range fs {
		for _, fb := range fieldBits {
			if fb.pb == f {
				out |= fb.bit
				continue next
			}
		}
		return 0, fmt.Errorf("%w: unknown process field %d", errdefs.ErrInvalidArgument, f)
	}
	return out, nil
}

func fieldsToProto(f process.Field) []pb.ProcessField {
	var out []pb.ProcessField
	for _, fb := range fieldBits {
		if f&fb.bit != 0 {
			out = append(out, fb.pb)
		}
	}
	return out
}

func filterFromProto(f *pb.ProcessFilter) process.Filter {
	if f == nil {
		return process.Filter{}
	}
	out := process.Filter{NameGlob: f.GetNameGlob(), User: f.GetUser(), PIDs: f.GetPids()}
	if f.Ppid != nil {
		ppid := f.GetPpid()
		out.PPID = &ppid
	}
	return out
}

func sortFromProto(s pb.ProcessSort) (process.SortBy, error) {
	switch s {
	case pb.ProcessSort_PROCESS_SORT_UNSPECIFIED, pb.ProcessSort_PROCESS_SORT_PID:
		return process.SortPID, nil
	case pb.ProcessSort_PROCESS_SORT_CPU:
		return process.SortCPU, nil
	case pb.ProcessSort_PROCESS_SORT_MEMORY:
		return process.SortMemory, nil
	}
	return 0, fmt.Errorf("%w: unknown sort order %d", errdefs.ErrInvalidArgument, s)
}

var statusToProto = map[process.Status]pb.ProcessStatus{
	process.StatusRunning:   pb.ProcessStatus_PROCESS_STATUS_RUNNING,
	process.StatusSleeping:  pb.ProcessStatus_PROCESS_STATUS_SLEEPING,
	process.StatusDiskSleep: pb.ProcessStatus_PROCESS_STATUS_DISK_SLEEP,
	process.StatusStopped:   pb.ProcessStatus_PROCESS_STATUS_STOPPED,
	process.StatusZombie:    pb.ProcessStatus_PROCESS_STATUS_ZOMBIE,
	process.StatusIdle:      pb.ProcessStatus_PROCESS_STATUS_IDLE,
	process.StatusDead:      pb.ProcessStatus_PROCESS_STATUS_DEAD,
}

// processToProto converts p as a caller who asked for fields sees it: the
// domain's Mask decides (listers and watch producers may carry more), so an
// unselected or unreadable field is absent rather than a misleading zero.
func processToProto(p *process.Process, fields process.Field) *pb.Process {
	q := *p
	q.Mask(fields)
	out := &pb.Process{
		Pid: q.PID, Ppid: q.PPID, Name: q.Name, Exe: q.Exe, Args: q.Args, User: q.User,
		Status: statusToProto[q.Status], CpuPercent: q.CPUPercent,
		ResidentMemoryBytes: q.RSS, VirtualMemoryBytes: q.VMS, ThreadCount: q.Threads,
		UnavailableFields: fieldsToProto(q.Unavailable),
	}
	if !q.StartTime.IsZero() {
		out.StartTime = timestamppb.New(q.StartTime)
	}
	if q.UID >= 0 { // Mask sets -1 when the user is not shown
		uid := q.UID
		out.Uid = &uid
	}
	if q.Shown(fields).Has(process.FieldCPU) {
		out.CpuUserTime = durationpb.New(q.CPUUser)
		out.CpuSystemTime = durationpb.New(q.CPUSystem)
		if q.CPUWindow > 0 {
			out.CpuPercentWindow = durationpb.New(q.CPUWindow)
		}
	}
	return out
}

var eventTypeToProto = map[watch.EventType]pb.ProcessEventType{
	watch.EventExisting: pb.ProcessEventType_PROCESS_EVENT_TYPE_EXISTING,
	watch.EventSynced:   pb.ProcessEventType_PROCESS_EVENT_TYPE_SYNCED,
	watch.EventStarted:  pb.ProcessEventType_PROCESS_EVENT_TYPE_STARTED,
	watch.EventExited:   pb.ProcessEventType_PROCESS_EVENT_TYPE_EXITED,
	watch.EventResync:   pb.ProcessEventType_PROCESS_EVENT_TYPE_RESYNC,
	watch.EventExec:     pb.ProcessEventType_PROCESS_EVENT_TYPE_EXEC,
}

func eventToProto(e *watch.Event, fields process.Field) *pb.ProcessEvent {
	out := &pb.ProcessEvent{Sequence: e.Seq, Time: timestamppb.New(e.Time), Type: eventTypeToProto[e.Type]}
	if e.Type != watch.EventSynced && e.Type != watch.EventResync {
		out.Process = processToProto(&e.Process, fields)
	}
	if b := e.Before; b != nil {
		// The old name names the event; exe and argv as for the process.
		old := process.Process{Name: b.Name, Exe: b.Exe, Args: b.Args}
		old.Mask(fields | process.FieldName)
		out.OldName, out.OldExe, out.OldArgs = old.Name, old.Exe, old.Args
	}
	if x := e.Exit; x != nil {
		if x.Signal != 0 {
			out.ExitSignal = &x.Signal
		} else {
			out.ExitCode = &x.Code
		}
	}
	return out
}

var serviceStates = []struct {
	pb  pb.ServiceState
	dom service.State
}{
	{pb.ServiceState_SERVICE_STATE_UNSPECIFIED, service.StateUnknown},
	{pb.ServiceState_SERVICE_STATE_RUNNING, service.StateRunning},
	{pb.ServiceState_SERVICE_STATE_STOPPED, service.StateStopped},
	{pb.ServiceState_SERVICE_STATE_STARTING, service.StateStarting},
	{pb.ServiceState_SERVICE_STATE_STOPPING, service.StateStopping},
	{pb.ServiceState_SERVICE_STATE_FAILED, service.StateFailed},
	{pb.ServiceState_SERVICE_STATE_PAUSED, service.StatePaused},
	{pb.ServiceState_SERVICE_STATE_RELOADING, service.StateReloading},
}

func serviceStateToProto(s service.State) pb.ServiceState {
	for _, m := range serviceStates {
		if m.dom == s {
			return m.pb
		}
	}
	return pb.ServiceState_SERVICE_STATE_UNSPECIFIED
}

func serviceStateFromProto(s pb.ServiceState) service.State {
	for _, m := range serviceStates {
		if m.pb == s {
			return m.dom
		}
	}
	return service.StateUnknown
}

func serviceStatesFromProto(in []pb.ServiceState) ([]service.State, error) {
	out := make([]service.State, 0, len(in))
next:
	for _, s := range in {
		for _, m := range serviceStates {
			if m.pb == s && s != pb.ServiceState_SERVICE_STATE_UNSPECIFIED {
				out = append(out, m.dom)
				continue next
			}
		}
		return nil, fmt.Errorf("%w: unknown service state %d", errdefs.ErrInvalidArgument, s)
	}
	return out, nil
}

var startTypeToProto = map[service.StartType]pb.ServiceStartType{
	service.StartTypeAutomatic:        pb.ServiceStartType_SERVICE_START_TYPE_AUTOMATIC,
	service.StartTypeAutomaticDelayed: pb.ServiceStartType_SERVICE_START_TYPE_AUTOMATIC_DELAYED,
	service.StartTypeManual:           pb.ServiceStartType_SERVICE_START_TYPE_MANUAL,
	service.StartTypeDisabled:         pb.ServiceStartType_SERVICE_START_TYPE_DISABLED,
}

func serviceToProto(s *service.Service) *pb.Service {
	return &pb.Service{
		Name:            s.Name,
		DisplayName:     s.DisplayName,
		Description:     s.Description,
		State:           serviceStateToProto(s.State),
		NativeState:     s.NativeState,
		StartType:       startTypeToProto[s.StartType],
		NativeStartType: s.NativeStartType,
		MainPid:         s.MainPID,
		Command:         s.Command,
		Dependencies:    s.Dependencies,
		Dependents:      s.Dependents,
	}
}

// timeoutFromProto reads a caller-given wait. The rule (absent or zero: the
// default; negative or above the maximum: refused) is the domain's
// ControlOptions.Validate; here only the encoding is checked.
func timeoutFromProto(d *durationpb.Duration) (time.Duration, error) {
	var t time.Duration
	if d != nil {
		if err := d.CheckValid(); err != nil {
			return 0, fmt.Errorf("%w: timeout: %w", errdefs.ErrInvalidArgument, err)
		}
		t = d.AsDuration()
	}
	if err := (service.ControlOptions{Timeout: t}).Validate(); err != nil {
		return 0, err
	}
	return service.EffectiveTimeout(t), nil
}
