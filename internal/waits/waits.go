// Package waits holds the waits of the API contract that the agent enforces
// and the Go client and ctl state too. It imports nothing but time, so a
// controller that imports the client does not link the agent's backends
// (D-Bus, systemd) to learn three durations. server/service and
// server/process name them for the domain.
package waits

import "time"

const (
	// ServiceDefault is the wait for a service state change when the caller
	// gives none.
	ServiceDefault = 30 * time.Second
	// ServiceMax bounds a caller-given service wait; a longer one is
	// INVALID_ARGUMENT, never shortened.
	ServiceMax = 10 * time.Minute
	// SignalMax bounds how long SignalProcess waits for an exit; a longer
	// wait is INVALID_ARGUMENT.
	SignalMax = 10 * time.Minute
)
