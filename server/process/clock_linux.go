package process

import (
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// One clock for start times. /proc gives a process's start in clock ticks
// since boot (CLOCK_BOOTTIME); the process connector stamps events with
// CLOCK_MONOTONIC. Both become wall-clock time through one boot time, taken
// once from CLOCK_REALTIME - CLOCK_BOOTTIME (nanoseconds; /proc/stat's btime
// is whole seconds and made start times up to a second early), and both are
// cut to whole ticks, so a process reads the same start time from a listing
// and from a kernel event.

var clocks struct {
	once sync.Once
	boot time.Time     // wall-clock time at boot
	susp time.Duration // CLOCK_BOOTTIME - CLOCK_MONOTONIC: time spent suspended
	err  error
}

func initClocks() {
	clocks.once.Do(func() {
		var bt, mono unix.Timespec
		now := time.Now()
		if clocks.err = unix.ClockGettime(unix.CLOCK_BOOTTIME, &bt); clocks.err != nil {
			return
		}
		if clocks.err = unix.ClockGettime(unix.CLOCK_MONOTONIC, &mono); clocks.err != nil {
			return
		}
		// Strip the monotonic reading: boot is a wall-clock instant.
		clocks.boot = now.Add(-time.Duration(bt.Nano())).Round(0)
		clocks.susp = time.Duration(bt.Nano() - mono.Nano())
	})
}

// BootTime returns when the host booted, with sub-second precision.
func BootTime() (time.Time, error) {
	initClocks()
	return clocks.boot, clocks.err
}

// bootOf is the boot time start times under procRoot are counted from: the
// precise one for the host's /proc, /proc/stat's btime for a tree under
// test. Listings and the signaler (which checks a start time) both use it.
func bootOf(procRoot string) (time.Time, error) {
	if procRoot == "/proc" {
		return BootTime()
	}
	boot, _, err := bootTime(procRoot)
	return boot, err
}

// StartTimeSinceBoot converts a start offset since boot to the start time a
// listing reports for the same process: boot time plus whole ticks.
func StartTimeSinceBoot(d time.Duration) time.Time {
	initClocks()
	return clocks.boot.Add(d.Truncate(tick))
}

// StartTimeFromMonotonic converts a CLOCK_MONOTONIC reading in nanoseconds
// (the connector's event stamp) to a start time, as StartTimeSinceBoot.
func StartTimeFromMonotonic(ns uint64) time.Time {
	initClocks()
	return StartTimeSinceBoot(time.Duration(ns) + clocks.susp)
}

// LookupUser returns the name of uid, as listings report it (its decimal
// form when the user is unknown).
func LookupUser(uid uint32) string { return sharedUsers.name(uid, time.Now()) }

var sharedUsers = newUserCache()
