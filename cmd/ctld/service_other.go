//go:build !windows

package main

import "github.com/kardianos/service"

// serviceRunArgs: systemd and launchd need no marker on the command line.
var serviceRunArgs []string

// runDaemon runs d through kardianos/service, which tells a service manager
// start from a terminal by itself here. --service changes nothing.
func runDaemon(s service.Service, _ *daemon, _ bool) error { return s.Run() }

// afterControl: kardianos/service's systemd unit already restarts on failure.
func afterControl(string) error { return nil }
