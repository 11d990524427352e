package main

import (
	"maps"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/remotectl/remotectl/client"
	"github.com/remotectl/remotectl/internal/pki"
	pb "github.com/remotectl/remotectl/proto/remotectl/v1"
)

// The JSON views below are ctl's stable, documented output (docs/cli.md).
// They are deliberately not protojson: key names, enum spellings and units
// are a contract with scripts and must not move when the proto evolves.

type processFieldName struct {
	name  string
	field pb.ProcessField
}

// processFieldNames maps --fields names to proto fields, in display (wire)
// order; fieldList is the same for help texts.
var (
	processFieldNames = func() []processFieldName {
		names := wireNames[pb.ProcessField](false)
		var out []processFieldName
		for _, f := range slices.Sorted(maps.Keys(names)) {
			out = append(out, processFieldName{names[f], f})
		}
		return out
	}()
	fieldList = strings.Join(wireList(wireNames[pb.ProcessField](false)), ",")
)

func fieldName(f pb.ProcessField) string {
	for _, n := range processFieldNames {
		if n.field == f {
			return n.name
		}
	}
	return "unknown"
}

// fieldSet is the set of optional process fields that were requested.
type fieldSet map[pb.ProcessField]bool

// allFields is what an empty --fields means (and what the agent sends).
func allFields() fieldSet {
	s := fieldSet{}
	for _, n := range processFieldNames {
		s[n.field] = true
	}
	return s
}

// processView is one process. A key is present only when its field was
// requested and readable: an absent key never masquerades as a zero value.
type processView struct {
	PID                     int32    `json:"pid"`
	PPID                    int32    `json:"ppid"`
	StartTime               string   `json:"start_time,omitempty"`
	Name                    *string  `json:"name,omitempty"`
	Exe                     *string  `json:"exe,omitempty"`
	Args                    []string `json:"args,omitzero"`
	User                    *string  `json:"user,omitempty"`
	UID                     *int64   `json:"uid,omitempty"`
	Status                  *string  `json:"status,omitempty"`
	CPUUserSeconds          *float64 `json:"cpu_user_seconds,omitempty"`
	CPUSystemSeconds        *float64 `json:"cpu_system_seconds,omitempty"`
	CPUPercent              *float64 `json:"cpu_percent,omitempty"`
	CPUPercentWindowSeconds *float64 `json:"cpu_percent_window_seconds,omitempty"`
	RSSBytes                *uint64  `json:"rss_bytes,omitempty"`
	VSZBytes                *uint64  `json:"vsz_bytes,omitempty"`
	Threads                 *int32   `json:"threads,omitempty"`
	UnavailableFields       []string `json:"unavailable_fields,omitempty"`
}

func newProcessView(p *pb.Process, fields fieldSet) processView {
	v := processView{PID: p.GetPid(), PPID: p.GetPpid(), StartTime: timeString(p.GetStartTime())}
	// What the agent shows: asked for and read (its one rule,
	// process.Process.Shown, read back from unavailable_fields).
	readable := maps.Clone(fields)
	for _, u := range p.GetUnavailableFields() {
		v.UnavailableFields = append(v.UnavailableFields, fieldName(u))
		delete(readable, u)
	}
	if readable[pb.ProcessField_PROCESS_FIELD_NAME] {
		v.Name = new(p.GetName())
	}
	if readable[pb.ProcessField_PROCESS_FIELD_EXE] {
		v.Exe = new(p.GetExe())
	}
	if readable[pb.ProcessField_PROCESS_FIELD_ARGS] {
		v.Args = p.GetArgs()
		if v.Args == nil {
			v.Args = []string{} // kernel thread: present but empty
		}
	}
	if readable[pb.ProcessField_PROCESS_FIELD_USER] {
		v.User = new(p.GetUser())
		if p.Uid != nil {
			v.UID = new(p.GetUid())
		}
	}
	if readable[pb.ProcessField_PROCESS_FIELD_STATUS] {
		v.Status = new(processStatusName(p.GetStatus()))
	}
	if readable[pb.ProcessField_PROCESS_FIELD_CPU] {
		v.CPUUserSeconds = new(seconds(p.GetCpuUserTime()))
		v.CPUSystemSeconds = new(seconds(p.GetCpuSystemTime()))
		v.CPUPercent = new(p.GetCpuPercent())
		v.CPUPercentWindowSeconds = new(seconds(p.GetCpuPercentWindow()))
	}
	if readable[pb.ProcessField_PROCESS_FIELD_MEMORY] {
		v.RSSBytes = new(p.GetResidentMemoryBytes())
		v.VSZBytes = new(p.GetVirtualMemoryBytes())
	}
	if readable[pb.ProcessField_PROCESS_FIELD_THREADS] {
		v.Threads = new(p.GetThreadCount())
	}
	return v
}

// eventHead starts every line of a watch's -o json (ps watch, svc watch):
// the agent's sequence number, the event time and the event type.
type eventHead struct {
	Seq  uint64 `json:"seq"`
	Time string `json:"time"`
	Type string `json:"type"`
}

func newEventHead(e interface {
	GetSequence() uint64
	GetTime() *timestamppb.Timestamp
}, typ string) eventHead {
	return eventHead{Seq: e.GetSequence(), Time: timeString(e.GetTime()), Type: typ}
}

// serviceView is one service; list fields are always arrays.
type serviceView struct {
	Name            string   `json:"name"`
	DisplayName     string   `json:"display_name"`
	Description     string   `json:"description"`
	State           string   `json:"state"`
	NativeState     string   `json:"native_state"`
	StartType       string   `json:"start_type"`
	NativeStartType string   `json:"native_start_type"`
	MainPID         int32    `json:"main_pid"`
	Command         string   `json:"command"`
	Dependencies    []string `json:"dependencies"`
	Dependents      []string `json:"dependents"`
}

func newServiceView(s *pb.Service) serviceView {
	return serviceView{
		Name:            s.GetName(),
		DisplayName:     s.GetDisplayName(),
		Description:     s.GetDescription(),
		State:           serviceStateName(s.GetState()),
		NativeState:     s.GetNativeState(),
		StartType:       startTypeName(s.GetStartType()),
		NativeStartType: s.GetNativeStartType(),
		MainPID:         s.GetMainPid(),
		Command:         s.GetCommand(),
		Dependencies:    nonNil(s.GetDependencies()),
		Dependents:      nonNil(s.GetDependents()),
	}
}

// controlView is the result of svc start|stop|restart.
type controlView struct {
	Service       serviceView `json:"service"`
	PreviousState string      `json:"previous_state"`
	Changed       bool        `json:"changed"`
}

func newControlView(r *client.ControlResult) controlView {
	return controlView{Service: newServiceView(r.Service), PreviousState: serviceStateName(r.PreviousState), Changed: r.Changed}
}

type loadView struct {
	Load1  float64 `json:"load1"`
	Load5  float64 `json:"load5"`
	Load15 float64 `json:"load15"`
}

type backendView struct {
	Capability     string `json:"capability"`
	Implementation string `json:"implementation"`
	Available      bool   `json:"available"`
	Reason         string `json:"reason,omitempty"`
}

// heartbeatView is `ctl heartbeat -o json`; clock_skew_seconds and
// rtt_seconds are measured by ctl, the rest comes from the agent.
type heartbeatView struct {
	Time                    string        `json:"time"`
	Hostname                string        `json:"hostname"`
	OS                      string        `json:"os"`
	Platform                string        `json:"platform"`
	PlatformVersion         string        `json:"platform_version"`
	KernelVersion           string        `json:"kernel_version"`
	Architecture            string        `json:"architecture"`
	AgentVersion            string        `json:"agent_version"`
	AgentCommit             string        `json:"agent_commit"`
	BootTime                string        `json:"boot_time,omitempty"`
	AgentStartTime          string        `json:"agent_start_time,omitempty"`
	ServerTime              string        `json:"server_time,omitempty"`
	UptimeSeconds           *float64      `json:"uptime_seconds,omitempty"`
	AgentUptimeSeconds      *float64      `json:"agent_uptime_seconds,omitempty"`
	CPUCount                uint32        `json:"cpu_count"`
	CPUPercent              float64       `json:"cpu_percent"`
	CPUPercentWindowSeconds float64       `json:"cpu_percent_window_seconds"`
	MemoryTotalBytes        uint64        `json:"memory_total_bytes"`
	MemoryUsedBytes         uint64        `json:"memory_used_bytes"`
	MemoryAvailableBytes    uint64        `json:"memory_available_bytes"`
	LoadAverage             *loadView     `json:"load_average"`
	ProcessCount            uint32        `json:"process_count"`
	Backends                []backendView `json:"backends"`
	ServerCertNotAfter      string        `json:"server_cert_not_after,omitempty"`
	ServerCertSerial        string        `json:"server_cert_serial,omitempty"`
	ClockSkewSeconds        float64       `json:"clock_skew_seconds"`
	RTTSeconds              float64       `json:"rtt_seconds"`
}

// beat is one heartbeat with ctl's own measurements around the call.
type beat struct {
	resp *pb.HeartbeatResponse
	sent time.Time     // local clock when the call started
	rtt  time.Duration // round-trip time of the call
}

// skew estimates how far the agent's clock is ahead of ours, assuming the
// agent read its clock halfway through the round trip.
func (b beat) skew() time.Duration {
	if b.resp.GetServerTime() == nil {
		return 0
	}
	return b.resp.GetServerTime().AsTime().Sub(b.sent.Add(b.rtt / 2))
}

func newHeartbeatView(b beat) heartbeatView {
	r := b.resp
	v := heartbeatView{
		Time:     b.sent.UTC().Format(time.RFC3339Nano),
		Hostname: r.GetHostname(), OS: r.GetOs(), Platform: r.GetPlatform(), PlatformVersion: r.GetPlatformVersion(),
		KernelVersion: r.GetKernelVersion(), Architecture: r.GetArchitecture(),
		AgentVersion: r.GetAgentVersion(), AgentCommit: r.GetAgentCommit(),
		BootTime: timeString(r.GetBootTime()), AgentStartTime: timeString(r.GetAgentStartTime()), ServerTime: timeString(r.GetServerTime()),
		CPUCount: r.GetCpuCount(), CPUPercent: r.GetCpuPercent(), CPUPercentWindowSeconds: seconds(r.GetCpuPercentWindow()),
		MemoryTotalBytes: r.GetMemoryTotalBytes(), MemoryUsedBytes: r.GetMemoryUsedBytes(), MemoryAvailableBytes: r.GetMemoryAvailableBytes(),
		ProcessCount: r.GetProcessCount(), Backends: []backendView{},
		ServerCertNotAfter: timeString(r.GetServerCertNotAfter()), ServerCertSerial: r.GetServerCertSerial(),
		ClockSkewSeconds: b.skew().Seconds(), RTTSeconds: b.rtt.Seconds(),
	}
	// Uptimes use the agent's own clock, so clock skew does not distort them.
	if st := r.GetServerTime(); st != nil {
		if bt := r.GetBootTime(); bt != nil {
			v.UptimeSeconds = new(st.AsTime().Sub(bt.AsTime()).Seconds())
		}
		if at := r.GetAgentStartTime(); at != nil {
			v.AgentUptimeSeconds = new(st.AsTime().Sub(at.AsTime()).Seconds())
		}
	}
	if l := r.GetLoadAverage(); l != nil {
		v.LoadAverage = &loadView{Load1: l.GetLoad1(), Load5: l.GetLoad5(), Load15: l.GetLoad15()}
	}
	for _, be := range r.GetBackends() {
		v.Backends = append(v.Backends, backendView{Capability: be.GetCapability(), Implementation: be.GetImplementation(), Available: be.GetAvailable(), Reason: be.GetReason()})
	}
	return v
}

// versionView is `ctl version -o json`; agent is null when the agent could
// not be asked.
type versionView struct {
	Client clientVersionView `json:"client"`
	Agent  *agentVersionView `json:"agent"`
}

type clientVersionView struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	GoVersion string `json:"go_version"`
	Platform  string `json:"platform"`
}

type agentVersionView struct {
	Host     string `json:"host"`
	Hostname string `json:"hostname"`
	Version  string `json:"version"`
	Commit   string `json:"commit"`
}

// certView is one certificate of `ctl certs inspect -o json`.
type certView struct {
	File               string   `json:"file"`
	Subject            string   `json:"subject"`
	Issuer             string   `json:"issuer"`
	Serial             string   `json:"serial"`
	NotBefore          string   `json:"not_before"`
	NotAfter           string   `json:"not_after"`
	ExpiresInSeconds   float64  `json:"expires_in_seconds"`
	Expired            bool     `json:"expired"`
	DNSNames           []string `json:"dns_names"`
	IPAddresses        []string `json:"ip_addresses"`
	URIs               []string `json:"uris"`
	EmailAddresses     []string `json:"email_addresses"`
	KeyUsage           []string `json:"key_usage"`
	ExtKeyUsage        []string `json:"ext_key_usage"`
	IsCA               bool     `json:"is_ca"`
	PublicKey          string   `json:"public_key"`
	SignatureAlgorithm string   `json:"signature_algorithm"`
	SHA256Fingerprint  string   `json:"sha256_fingerprint"`
}

func newCertView(file string, in pki.Info, now time.Time) certView {
	left := in.NotAfter.Sub(now)
	return certView{
		File: file, Subject: in.Subject, Issuer: in.Issuer, Serial: in.Serial,
		NotBefore: in.NotBefore.UTC().Format(time.RFC3339), NotAfter: in.NotAfter.UTC().Format(time.RFC3339),
		ExpiresInSeconds: left.Seconds(), Expired: left <= 0,
		DNSNames: nonNil(in.DNSNames), IPAddresses: nonNil(in.IPAddresses), URIs: nonNil(in.URIs),
		EmailAddresses: nonNil(in.EmailAddresses), KeyUsage: nonNil(in.KeyUsage), ExtKeyUsage: nonNil(in.ExtKeyUsage),
		IsCA: in.IsCA, PublicKey: in.PublicKey, SignatureAlgorithm: in.SignatureAlgorithm, SHA256Fingerprint: in.SHA256Fingerprint,
	}
}

// issuedView is the output of certs ca|server|client: the files written
// and the new certificate.
type issuedView struct {
	Certificate   string `json:"certificate"`
	Key           string `json:"key"`
	CACertificate string `json:"ca_certificate,omitempty"`
	certView
}
