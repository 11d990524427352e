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

// fieldsFromProto converts a field selection; empty means all fields.
func fieldsFromProto(fs []pb.ProcessField) (process.Field, error) {
	if len(fs) == 0 {
		return process.FieldsAll, nil
	}
	var out process.Field
	for _, f := range fs {
		bit, ok := fieldPairs.fromProto[f]
		if !ok {
			return 0, fmt.Errorf("%w: unknown process field %d", errdefs.ErrInvalidArgument, f)
		}
		out |= bit
	}
	return out, nil
}

// fieldsToProto lists the fields of f in bit order, the order unavailable
// fields are reported in.
func fieldsToProto(f process.Field) []pb.ProcessField {
	var out []pb.ProcessField
	for _, bit := range (f & process.FieldsAll).Bits() {
		out = append(out, fieldPairs.toProto[bit])
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

// processToProto converts p as a caller who asked for fields sees it: the
// domain's Mask decides (listers and watch producers may carry more), so an
// unselected or unreadable field is absent rather than a misleading zero.
func processToProto(p *process.Process, fields process.Field) *pb.Process {
	q := *p
	q.Mask(fields)
	out := &pb.Process{
		Pid: q.PID, Ppid: q.PPID, Name: q.Name, Exe: q.Exe, Args: q.Args, User: q.User,
		Status: statusPairs.toProto[q.Status], CpuPercent: q.CPUPercent,
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

func eventToProto(e *watch.Event, fields process.Field) *pb.ProcessEvent {
	out := &pb.ProcessEvent{Sequence: e.Seq, Time: timestamppb.New(e.Time), Type: eventTypePairs.toProto[e.Type]}
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

func serviceStateToProto(s service.State) pb.ServiceState { return serviceStatePairs.toProto[s] }

func serviceStateFromProto(s pb.ServiceState) service.State { return serviceStatePairs.fromProto[s] }

func serviceStatesFromProto(in []pb.ServiceState) ([]service.State, error) {
	out := make([]service.State, 0, len(in))
	for _, s := range in {
		d, ok := serviceStatePairs.fromProto[s]
		if !ok {
			return nil, fmt.Errorf("%w: unknown service state %d", errdefs.ErrInvalidArgument, s)
		}
		out = append(out, d)
	}
	return out, nil
}

func serviceToProto(s *service.Service) *pb.Service {
	return &pb.Service{
		Name:            s.Name,
		DisplayName:     s.DisplayName,
		Description:     s.Description,
		State:           serviceStateToProto(s.State),
		NativeState:     s.NativeState,
		StartType:       startTypePairs.toProto[s.StartType],
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
