package service

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unsafe"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/svc/mgr"

	"github.com/remotectl/remotectl/internal/errdefs"
)

// scmKind names this backend in BackendStatus and ListServices responses.
const scmKind = "windows-scm"

// scmManager implements Manager over the Windows service control manager
// (x/sys/windows/svc/mgr and the advapi32 calls beneath it). Every call opens
// its own SCM connection and closes it, and every service handle, on every
// path: the SCM is a local RPC server and connections are cheap, while a
// long-lived one would go stale if services.exe restarted.
type scmManager struct{}

// NewManager returns the Windows SCM backend.
func NewManager() Manager { return scmManager{} }

func (scmManager) Close() error { return nil }

// Status reports whether the SCM can be opened with the rights listing needs.
func (scmManager) Status(context.Context) BackendStatus {
	m, err := connect()
	if err != nil {
		return BackendStatus{Kind: scmKind, Reason: err.Error()}
	}
	disconnect(m)
	return BackendStatus{Kind: scmKind, Available: true}
}

// connect opens the SCM with the rights listing and controlling need, not
// the SC_MANAGER_ALL_ACCESS of mgr.Connect, which only administrators get.
func connect() (*mgr.Mgr, error) {
	h, err := windows.OpenSCManager(nil, nil, windows.SC_MANAGER_CONNECT|windows.SC_MANAGER_ENUMERATE_SERVICE)
	if err != nil {
		err = scmErr("connect to the service control manager", "", err)
		if errors.Is(err, errdefs.ErrInternal) {
			err = fmt.Errorf("%w: %w", errdefs.ErrUnavailable, err)
		}
		return nil, err
	}
	return &mgr.Mgr{Handle: h}, nil
}

func disconnect(m *mgr.Mgr) { _ = m.Disconnect() }

// validateName adds the SCM's rule to the portable ones: no backslash.
func validateName(name string) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	if strings.ContainsRune(name, '\\') {
		return fmt.Errorf("%w: service name %q contains '\\'", errdefs.ErrInvalidArgument, name)
	}
	return nil
}

func openService(m *mgr.Mgr, name string, access uint32) (*mgr.Service, error) {
	p, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return nil, fmt.Errorf("%w: service name %q: %w", errdefs.ErrInvalidArgument, name, err)
	}
	h, err := windows.OpenService(m.Handle, p, access)
	if err != nil {
		return nil, scmErr("open service", name, err)
	}
	return &mgr.Service{Handle: h, Name: name}, nil
}

const queryAccess = windows.SERVICE_QUERY_CONFIG | windows.SERVICE_QUERY_STATUS

// List implements Manager. One EnumServicesStatusEx gives names, display
// names, states and pids; each service's configuration (start type, binary,
// dependencies, description) is read once, and dependents are derived from
// those configurations.
func (scmManager) List(ctx context.Context, f Filter) ([]Service, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	m, err := connect()
	if err != nil {
		return nil, err
	}
	defer disconnect(m)
	all, g, err := readAll(ctx, m)
	if err != nil {
		return nil, err
	}
	var out []Service
	for _, s := range all {
		if f.Match(s) {
			s.Dependents = g.Dependents(s.Name)
			out = append(out, s)
		}
	}
	return out, nil
}

// Get implements Manager.
func (scmManager) Get(ctx context.Context, name string) (Service, error) {
	if err := validateName(name); err != nil {
		return Service{}, err
	}
	m, err := connect()
	if err != nil {
		return Service{}, err
	}
	defer disconnect(m)
	return get(ctx, m, name)
}

// get reads one service and its direct dependents.
func get(ctx context.Context, m *mgr.Mgr, name string) (Service, error) {
	svc, _, err := readNamed(m, name, nil)
	if err != nil {
		return Service{}, err
	}
	all, g, err := readAll(ctx, m)
	if err != nil {
		return Service{}, err
	}
	// The SCM matches names case-insensitively; answer with its spelling.
	if i := slices.IndexFunc(all, func(s Service) bool { return strings.EqualFold(s.Name, name) }); i >= 0 {
		svc.Name = all[i].Name
	}
	svc.Dependents = g.Dependents(svc.Name)
	return svc, nil
}

// readAll reads every Win32 service, sorted by name, and the dependency
// graph of their configurations. Services that vanish between the
// enumeration and the read are left out; services whose configuration may
// not be read are kept with what the enumeration said.
func readAll(ctx context.Context, m *mgr.Mgr) ([]Service, *depGraph, error) {
	entries, err := enumerate(m)
	if err != nil {
		return nil, nil, err
	}
	out := make([]Service, 0, len(entries))
	nodes := make([]depNode, 0, len(entries))
	for i := range entries {
		if i%32 == 0 && ctx.Err() != nil {
			return nil, nil, ctxErr("list services", ctx.Err())
		}
		e := &entries[i]
		name := windows.UTF16PtrToString(e.ServiceName)
		st := e.ServiceStatusProcess
		svc, group, err := readNamed(m, name, &st)
		if errors.Is(err, errdefs.ErrNotFound) {
			continue
		}
		if err != nil {
			svc = base(name, &st)
			svc.DisplayName = windows.UTF16PtrToString(e.DisplayName)
		}
		out = append(out, svc)
		nodes = append(nodes, depNode{Name: svc.Name, Group: group, Dependencies: svc.Dependencies})
	}
	slices.SortFunc(out, func(a, b Service) int { return compareFold(a.Name, b.Name) })
	return out, newDepGraph(nodes), nil
}

func readNamed(m *mgr.Mgr, name string, st *windows.SERVICE_STATUS_PROCESS) (Service, string, error) {
	s, err := openService(m, name, queryAccess)
	if err != nil {
		return Service{}, "", err
	}
	defer s.Close() //nolint:errcheck // a handle we own; nothing to do on failure
	return readOne(s, name, st)
}

// enumerate is one EnumServicesStatusEx over all Win32 services.
func enumerate(m *mgr.Mgr) ([]windows.ENUM_SERVICE_STATUS_PROCESS, error) {
	var buf []uint64 // 8-byte aligned
	var need, count, resume uint32
	for {
		var p *byte
		if len(buf) > 0 {
			p = (*byte)(unsafe.Pointer(&buf[0]))
		}
		err := windows.EnumServicesStatusEx(m.Handle, windows.SC_ENUM_PROCESS_INFO, windows.SERVICE_WIN32,
			windows.SERVICE_STATE_ALL, p, uint32(len(buf)*8), &need, &count, &resume, nil)
		if err == nil {
			break
		}
		if !errors.Is(err, windows.ERROR_MORE_DATA) || need <= uint32(len(buf)*8) && len(buf) > 0 {
			return nil, scmErr("list services", "", err)
		}
		buf = make([]uint64, need/8+1)
		resume = 0
	}
	if count == 0 {
		return nil, nil
	}
	return slices.Clone(unsafe.Slice((*windows.ENUM_SERVICE_STATUS_PROCESS)(unsafe.Pointer(&buf[0])), count)), nil
}
