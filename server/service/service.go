// Package service is the service-manager domain: plain types and the Manager
// interface implemented by systemd (Linux) and the SCM (Windows). It imports
// no proto code.
package service

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/remotectl/remotectl/internal/waits"
)

// State is a portable service state.
type State int

const (
	StateUnknown   State = iota
	StateRunning         // active
	StateStopped         // inactive
	StateStarting        // activating / start pending
	StateStopping        // deactivating / stop pending
	StateFailed          // stopped after a failure
	StatePaused          // paused (Windows)
	StateReloading       // reloading configuration, still serving
)

// stateNames and startTypeNames spell these enums for the agent's audit
// records and logs exactly as ctl spells the wire values (the value name
// without the enum's prefix, lower case: automatic_delayed), so a record and
// ctl's output read alike; server/contract_test.go pins it.
var stateNames = map[State]string{
	StateUnknown: "unknown", StateRunning: "running", StateStopped: "stopped",
	StateStarting: "starting", StateStopping: "stopping", StateFailed: "failed",
	StatePaused: "paused", StateReloading: "reloading",
}

func (s State) String() string { return stateNames[s] }

// States lists the states, StateUnknown first.
func States() []State { return slices.Sorted(maps.Keys(stateNames)) }

// StartType says when the service manager starts a service by itself.
type StartType int

const (
	StartTypeUnknown          StartType = iota
	StartTypeAutomatic                  // at boot (systemd: enabled)
	StartTypeAutomaticDelayed           // shortly after boot (Windows delayed auto-start)
	StartTypeManual                     // on demand (systemd: disabled, static, indirect)
	StartTypeDisabled                   // cannot be started (systemd: masked)
)

var startTypeNames = map[StartType]string{
	StartTypeUnknown: "unknown", StartTypeAutomatic: "automatic", StartTypeAutomaticDelayed: "automatic_delayed",
	StartTypeManual: "manual", StartTypeDisabled: "disabled",
}

func (t StartType) String() string { return startTypeNames[t] }

// StartTypes lists the start types, StartTypeUnknown first.
func StartTypes() []StartType { return slices.Sorted(maps.Keys(startTypeNames)) }

// Service describes one service. Fields the platform does not know are zero.
type Service struct {
	Name        string // unique name ("sshd.service", "Spooler")
	DisplayName string
	Description string
	State       State
	// NativeState is the platform's own wording ("active/running", "STOP_PENDING").
	NativeState     string
	StartType       StartType
	NativeStartType string // "enabled", "static", "AUTO_START", ...
	MainPID         int32  // 0 when not running or unknown
	Command         string // executable and arguments
	Dependencies    []string
	Dependents      []string
}

// Filter selects services. Zero values match everything.
type Filter struct {
	NameGlob string  // path.Match glob over Name or DisplayName (see Filter.Match)
	States   []State // any of these states
}

// ControlOptions tunes Start/Stop/Restart.
type ControlOptions struct {
	// Timeout bounds the wait for the target state. Zero means DefaultTimeout;
	// a negative value or one above MaxTimeout is refused (see Validate).
	Timeout time.Duration
	// StopDependents lets Stop and Restart stop the running services that
	// depend on the target first (and Restart start them again afterwards).
	// Without it the Windows SCM backend refuses to stop a service with
	// running dependents (ErrFailedPrecondition naming them). The systemd
	// backend ignores it: a systemd stop job always stops the units that
	// Requires= or BindsTo= the target, as systemctl stop does.
	StopDependents bool
}

const (
	// DefaultTimeout is the wait for a state change when the caller gives
	// none (defined in internal/waits, which the client and ctl's --wait
	// help import; the proto comments state it and a test pins them).
	DefaultTimeout = waits.ServiceDefault
	// MaxTimeout bounds any caller-given wait so a request cannot pin a
	// handler forever; a longer wait is INVALID_ARGUMENT (ControlOptions.Validate).
	MaxTimeout = waits.ServiceMax
)

// Result is the outcome of a state change.
type Result struct {
	Service       Service // state after the operation
	PreviousState State
	// Changed is false when the service already was in the target state
	// (start of a running service, stop of a stopped one).
	Changed bool
}

// BackendStatus says whether a service manager is usable on this host.
type BackendStatus struct {
	Kind      string // "systemd", "windows-scm", "none"
	Available bool
	Reason    string // why not, when unavailable
}

// Manager controls the host's services. Implementations are safe for
// concurrent use and return errdefs sentinels (wrapped with the OS reason):
// ErrNotFound for unknown services, ErrInvalidArgument for malformed names,
// ErrPermissionDenied or ErrFailedPrecondition for OS refusals,
// ErrDeadlineExceeded when the target state is not reached in time,
// ErrUnavailable when the backend cannot be reached.
type Manager interface {
	Status(ctx context.Context) BackendStatus
	List(ctx context.Context, f Filter) ([]Service, error)
	Get(ctx context.Context, name string) (Service, error)
	Start(ctx context.Context, name string, opts ControlOptions) (Result, error)
	Stop(ctx context.Context, name string, opts ControlOptions) (Result, error)
	Restart(ctx context.Context, name string, opts ControlOptions) (Result, error)
	Close() error
}
