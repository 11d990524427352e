package service

import (
	"context"

	"golang.org/x/sys/windows"
)

// NewWatcher returns the SCM watcher: it polls every PollInterval with one
// EnumServicesStatusEx (states and pids of all services, no per-service
// handles) and reports the differences. NotifyServiceStatusChange would need
// a handle and a callback thread per service; one call per second serves all.
func NewWatcher() Watcher {
	return newHub(pollSource(scmSnapshot, PollInterval), func(n string) string { return n })
}

func scmSnapshot(ctx context.Context) (map[string]unitState, error) {
	m, err := connect()
	if err != nil {
		return nil, err
	}
	defer disconnect(m)
	entries, err := enumerate(m)
	if err != nil {
		return nil, err
	}
	snap := make(map[string]unitState, len(entries))
	for i := range entries {
		e := &entries[i]
		name := windows.UTF16PtrToString(e.ServiceName)
		s := base(name, &e.ServiceStatusProcess)
		snap[name] = unitState{state: s.State, native: s.NativeState, pid: s.MainPID,
			display: windows.UTF16PtrToString(e.DisplayName)}
	}
	return snap, ctx.Err()
}
