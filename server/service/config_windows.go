package service

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"unsafe"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
	"golang.org/x/sys/windows/svc/mgr"

	"github.com/remotectl/remotectl/internal/errdefs"
)

// queryStatus reads the service's SERVICE_STATUS_PROCESS (state, pid, exit
// codes, checkpoint and wait hint).
func queryStatus(s *mgr.Service) (*windows.SERVICE_STATUS_PROCESS, error) {
	var st windows.SERVICE_STATUS_PROCESS
	var need uint32
	err := windows.QueryServiceStatusEx(s.Handle, windows.SC_STATUS_PROCESS_INFO,
		(*byte)(unsafe.Pointer(&st)), uint32(unsafe.Sizeof(st)), &need)
	if err != nil {
		return nil, scmErr("query service", s.Name, err)
	}
	return &st, nil
}

// readOne reads the configuration of an open service and combines it with
// its status (read now when st is nil). It returns the load-order group too.
func readOne(s *mgr.Service, name string, st *windows.SERVICE_STATUS_PROCESS) (Service, string, error) {
	if st == nil {
		var err error
		if st, err = queryStatus(s); err != nil {
			return Service{}, "", err
		}
	}
	svc := base(name, st)
	cfg, err := queryConfig(s.Handle)
	if err != nil {
		return svc, "", scmErr("read the configuration of", name, err)
	}
	svc.DisplayName = windows.UTF16PtrToString(cfg.DisplayName)
	svc.Command = windows.UTF16PtrToString(cfg.BinaryPathName)
	svc.Dependencies = multiString(cfg.Dependencies)
	if len(svc.Dependencies) == 0 {
		svc.Dependencies = registryDependencies(name)
	}
	// Description and delayed start are optional extras: a service without
	// them (or an SCM that does not know the info level) is still listed.
	if b, err := queryConfig2(s.Handle, windows.SERVICE_CONFIG_DESCRIPTION); err == nil {
		svc.Description = windows.UTF16PtrToString((*windows.SERVICE_DESCRIPTION)(unsafe.Pointer(&b[0])).Description)
	}
	delayed := false
	if cfg.StartType == windows.SERVICE_AUTO_START {
		if b, err := queryConfig2(s.Handle, windows.SERVICE_CONFIG_DELAYED_AUTO_START_INFO); err == nil {
			delayed = (*windows.SERVICE_DELAYED_AUTO_START_INFO)(unsafe.Pointer(&b[0])).IsDelayedAutoStartUp != 0
		}
	}
	svc.StartType, svc.NativeStartType = startTypeOf(cfg.StartType, delayed), nativeStartType(cfg.StartType, delayed)
	return svc, windows.UTF16PtrToString(cfg.LoadOrderGroup), nil
}

// registryDependencies reads the dependencies from the SCM's own database,
// the service's registry key. Wine's QueryServiceConfig leaves
// lpDependencies empty although CreateService stored them there; on Windows
// the key says the same as the API. Unreadable means none.
func registryDependencies(name string) []string {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, `SYSTEM\CurrentControlSet\Services\`+name, registry.QUERY_VALUE)
	if err != nil {
		return nil
	}
	defer k.Close() //nolint:errcheck // a key we own; nothing to do on failure
	deps, _, _ := k.GetStringsValue("DependOnService")
	groups, _, _ := k.GetStringsValue("DependOnGroup")
	for _, g := range groups {
		deps = append(deps, "+"+g)
	}
	return deps
}

// base is what the status alone says about a service.
func base(name string, st *windows.SERVICE_STATUS_PROCESS) Service {
	s := Service{Name: name}
	s.State, s.NativeState = stateOf(st), nativeState(st)
	if st.CurrentState != windows.SERVICE_STOPPED {
		s.MainPID = int32(st.ProcessId)
	}
	return s
}

func queryConfig(h windows.Handle) (*windows.QUERY_SERVICE_CONFIG, error) {
	n := uint32(1024)
	for {
		b := make([]uint64, n/8+1)
		p := (*windows.QUERY_SERVICE_CONFIG)(unsafe.Pointer(&b[0]))
		err := windows.QueryServiceConfig(h, p, uint32(len(b)*8), &n)
		if err == nil {
			return p, nil
		}
		if !errors.Is(err, windows.ERROR_INSUFFICIENT_BUFFER) || n <= uint32(len(b)*8) {
			return nil, err
		}
	}
}

func queryConfig2(h windows.Handle, level uint32) ([]byte, error) {
	n := uint32(256)
	for {
		w := make([]uint64, n/8+1)
		b := unsafe.Slice((*byte)(unsafe.Pointer(&w[0])), len(w)*8)
		err := windows.QueryServiceConfig2(h, level, &b[0], uint32(len(b)), &n)
		if err == nil {
			return b, nil
		}
		if !errors.Is(err, windows.ERROR_INSUFFICIENT_BUFFER) || n <= uint32(len(b)) {
			return nil, err
		}
	}
}

// multiString splits a double-NUL-terminated list of strings.
func multiString(p *uint16) []string {
	var out []string
	for p != nil && *p != 0 {
		s := windows.UTF16PtrToString(p)
		out = append(out, s)
		p = (*uint16)(unsafe.Add(unsafe.Pointer(p), (len(windows.StringToUTF16(s)))*2))
	}
	return out
}

var nativeStates = map[uint32]string{
	windows.SERVICE_STOPPED: "STOPPED", windows.SERVICE_START_PENDING: "START_PENDING",
	windows.SERVICE_STOP_PENDING: "STOP_PENDING", windows.SERVICE_RUNNING: "RUNNING",
	windows.SERVICE_CONTINUE_PENDING: "CONTINUE_PENDING", windows.SERVICE_PAUSE_PENDING: "PAUSE_PENDING",
	windows.SERVICE_PAUSED: "PAUSED",
}

// stateOf maps the SCM state. A stopped service whose exit code reports an
// error is "failed"; ERROR_SERVICE_NEVER_STARTED is the code of a service
// that simply has not run since boot.
func stateOf(st *windows.SERVICE_STATUS_PROCESS) State {
	switch st.CurrentState {
	case windows.SERVICE_STOPPED:
		if st.Win32ExitCode != 0 && st.Win32ExitCode != uint32(windows.ERROR_SERVICE_NEVER_STARTED) {
			return StateFailed
		}
		return StateStopped
	case windows.SERVICE_START_PENDING, windows.SERVICE_CONTINUE_PENDING:
		return StateStarting
	case windows.SERVICE_STOP_PENDING, windows.SERVICE_PAUSE_PENDING:
		return StateStopping
	case windows.SERVICE_RUNNING:
		return StateRunning
	case windows.SERVICE_PAUSED:
		return StatePaused
	}
	return StateUnknown
}

// nativeState is the SCM's name of the state ("STOP_PENDING").
func nativeState(st *windows.SERVICE_STATUS_PROCESS) string {
	if n, ok := nativeStates[st.CurrentState]; ok {
		return n
	}
	return "STATE_" + strconv.FormatUint(uint64(st.CurrentState), 10)
}

// scmStartTypeInfo holds each SCM start type's portable value and name
// (scmStartTypes in starttype_windows.go is the way back).
var scmStartTypeInfo = map[uint32]struct {
	portable StartType
	native   string
}{
	windows.SERVICE_AUTO_START:   {StartTypeAutomatic, "AUTO_START"},
	windows.SERVICE_BOOT_START:   {StartTypeAutomatic, "BOOT_START"},
	windows.SERVICE_SYSTEM_START: {StartTypeAutomatic, "SYSTEM_START"},
	windows.SERVICE_DEMAND_START: {StartTypeManual, "DEMAND_START"},
	windows.SERVICE_DISABLED:     {StartTypeDisabled, "DISABLED"},
}

// startTypeOf maps the SCM start type; delayed is the delayed-auto-start flag.
func startTypeOf(t uint32, delayed bool) StartType {
	if t == windows.SERVICE_AUTO_START && delayed {
		return StartTypeAutomaticDelayed
	}
	if st, ok := scmStartTypeInfo[t]; ok {
		return st.portable
	}
	return StartTypeUnknown
}

// nativeStartType is the SCM's name of the start type ("AUTO_START_DELAYED").
func nativeStartType(t uint32, delayed bool) string {
	if t == windows.SERVICE_AUTO_START && delayed {
		return "AUTO_START_DELAYED"
	}
	if st, ok := scmStartTypeInfo[t]; ok {
		return st.native
	}
	return "START_TYPE_" + strconv.FormatUint(uint64(t), 10)
}

// ctxErr maps a context error during op to its sentinel.
func ctxErr(op string, err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: %s: %w", errdefs.ErrDeadlineExceeded, op, err)
	}
	return fmt.Errorf("%w: %s: %w", errdefs.ErrCanceled, op, err)
}
