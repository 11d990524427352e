package server

import (
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/remotectl/remotectl/internal/errdefs"
	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
	"github.com/remotectl/remotectl/server/logs"
)

func logSourceFromProto(s *pb.LogSource) logs.Source {
	switch k := s.GetKind().(type) {
	case *pb.LogSource_File:
		return logs.Source{Kind: logs.KindFile, Path: k.File}
	case *pb.LogSource_Journal:
		return logs.Source{Kind: logs.KindJournal, Unit: k.Journal.GetUnit()}
	case *pb.LogSource_EventLog:
		return logs.Source{Kind: logs.KindEventLog, Channel: k.EventLog.GetChannel(), Provider: k.EventLog.GetProvider(), XPath: k.EventLog.GetXpath()}
	case *pb.LogSource_Service:
		return logs.Source{Kind: logs.KindService, Service: k.Service}
	}
	return logs.Source{}
}

func logFilterFromProto(f *pb.LogFilter) (logs.Filter, error) {
	p := logs.Priority(f.GetMaxPriority())
	if p < logs.PriorityUnspecified || p > logs.PriorityDebug {
		return logs.Filter{}, fmt.Errorf("%w: unknown priority %d", errdefs.ErrInvalidArgument, p)
	}
	return logs.Filter{Include: f.GetInclude(), Exclude: f.GetExclude(), MaxPriority: p}, nil
}

func sinceFromProto(ts *timestamppb.Timestamp) (time.Time, error) {
	if ts == nil {
		return time.Time{}, nil
	}
	if err := ts.CheckValid(); err != nil {
		return time.Time{}, fmt.Errorf("%w: since: %w", errdefs.ErrInvalidArgument, err)
	}
	return ts.AsTime(), nil
}

func logEntriesToProto(es []logs.Entry) []*pb.LogEntry {
	out := make([]*pb.LogEntry, len(es))
	for i := range es {
		e := &es[i]
		out[i] = &pb.LogEntry{
			Time: timestamppb.New(e.Time), Source: e.Source, Message: e.Message, Unit: e.Unit, Pid: e.PID,
			Priority: pb.LogPriority(e.Priority), Cursor: e.Cursor, Truncated: e.Truncated, InvalidUtf8: e.InvalidUTF8,
			Provider: e.Provider, EventId: e.EventID,
		}
	}
	return out
}
