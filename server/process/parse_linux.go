package process

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

const (
	// userHZ is USER_HZ, the unit of the tick counts in /proc/PID/stat. It
	// is 100 on every Linux ABI; sysconf(_SC_CLK_TCK) would need cgo.
	userHZ = 100
	tick   = time.Second / userHZ
	// startResolution is how precisely start times are known: one tick.
	startResolution = tick

	pfKthread = 0x00200000 // PF_KTHREAD in /proc/PID/stat flags
)

// procStat holds the fields of /proc/PID/stat we use. comm aliases the
// buffer it was parsed from.
type procStat struct {
	comm      []byte
	state     byte
	ppid      int64
	flags     uint64
	utime     uint64 // ticks
	stime     uint64 // ticks
	threads   int64
	starttime uint64 // ticks since boot
	vsize     uint64 // bytes
	rss       int64  // pages
}

var errBadStat = errors.New("malformed stat line")

// parseStat parses a /proc/PID/stat line. comm sits between the first '('
// and the last ')': it may itself contain spaces and parentheses.
func parseStat(b []byte, st *procStat) error {
	lp := bytes.IndexByte(b, '(')
	rp := bytes.LastIndexByte(b, ')')
	if lp < 0 || rp < lp || rp+2 >= len(b) {
		return errBadStat
	}
	st.comm = b[lp+1 : rp]
	rest := bytes.TrimRight(b[rp+2:], "\n") // skip ") "
	st.state = rest[0]
	// Fields after comm, counted from 0 at state (field 3 in proc(5)).
	for i, field := 0, 0; i < len(rest) && field <= 21; field++ {
		j := bytes.IndexByte(rest[i:], ' ')
		if j < 0 {
			j = len(rest) - i
		}
		f := rest[i : i+j]
		i += j + 1
		var err error
		switch field {
		case 1:
			st.ppid, err = atoi(f)
		case 6:
			st.flags, err = atou(f)
		case 11:
			st.utime, err = atou(f)
		case 12:
			st.stime, err = atou(f)
		case 17:
			st.threads, err = atoi(f)
		case 19:
			st.starttime, err = atou(f)
		case 20:
			st.vsize, err = atou(f)
		case 21:
			st.rss, err = atoi(f)
			return err
		}
		if err != nil {
			return err
		}
	}
	return errBadStat
}

// atou parses a decimal without allocating (strconv takes a string).
func atou(b []byte) (uint64, error) {
	if len(b) == 0 || len(b) > 20 {
		return 0, errBadStat
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, errBadStat
		}
		n = n*10 + uint64(c-'0')
	}
	return n, nil
}

func atoi(b []byte) (int64, error) {
	if len(b) > 0 && b[0] == '-' {
		n, err := atou(b[1:])
		return -int64(n), err
	}
	n, err := atou(b)
	return int64(n), err
}

// parseEUID returns the effective UID from /proc/PID/status ("Uid:\treal\teffective\t...").
// ps shows the effective user, and so do we.
func parseEUID(b []byte) (uint32, bool) {
	line, ok := lineAfter(b, "\nUid:")
	if !ok {
		return 0, false
	}
	f := bytes.Fields(line)
	if len(f) < 2 {
		return 0, false
	}
	n, err := atou(f[1])
	if err != nil || n > 1<<32-1 {
		return 0, false
	}
	return uint32(n), true
}

// lineAfter returns the rest of the line that starts with key (key begins
// with the newline before it) in b.
func lineAfter(b []byte, key string) ([]byte, bool) {
	i := bytes.Index(b, []byte(key))
	if i < 0 {
		return nil, false
	}
	line := b[i+len(key):]
	if j := bytes.IndexByte(line, '\n'); j >= 0 {
		line = line[:j]
	}
	return line, true
}

// splitArgs splits a NUL-separated /proc/PID/cmdline into argv with one
// string allocation. Processes that rewrite their title may leave no NULs;
// they get a single argument, as with ps.
func splitArgs(b []byte) []string {
	b = bytes.TrimRight(b, "\x00")
	if len(b) == 0 {
		return nil
	}
	s := string(b)
	args := make([]string, 0, bytes.Count(b, []byte{0})+1)
	for {
		i := strings.IndexByte(s, 0)
		if i < 0 {
			return append(args, s)
		}
		args = append(args, s[:i])
		s = s[i+1:]
	}
}

// bootTime returns the boot time as /proc/stat's btime gives it (whole
// seconds, what ps uses, so start times agree with ps and stay stable across
// calls) and the sub-second part it rounds away, estimated from /proc/uptime.
func bootTime(procRoot string) (boot time.Time, skew time.Duration, err error) {
	b, err := os.ReadFile(procRoot + "/stat")
	if err != nil {
		return time.Time{}, 0, err
	}
	line, ok := lineAfter(b, "\nbtime ")
	if !ok {
		return time.Time{}, 0, fmt.Errorf("no btime in %s/stat", procRoot)
	}
	sec, err := atou(line)
	if err != nil {
		return time.Time{}, 0, fmt.Errorf("bad btime %q", line)
	}
	boot = time.Unix(int64(sec), 0)

	now := time.Now()
	if u, err := os.ReadFile(procRoot + "/uptime"); err == nil {
		if f := bytes.Fields(u); len(f) > 0 {
			if up, err := strconv.ParseFloat(string(f[0]), 64); err == nil {
				precise := now.Add(-time.Duration(up * float64(time.Second)))
				skew = precise.Sub(boot)
			}
		}
	}
	if skew < 0 || skew >= time.Second { // clock stepped since boot: ignore
		skew = 0
	}
	return boot, skew, nil
}

// statusOf maps the state letter of /proc/PID/stat.
func statusOf(state byte) Status {
	switch state {
	case 'R':
		return StatusRunning
	case 'S':
		return StatusSleeping
	case 'D':
		return StatusDiskSleep
	case 'T', 't':
		return StatusStopped
	case 'Z':
		return StatusZombie
	case 'I':
		return StatusIdle
	case 'X', 'x':
		return StatusDead
	}
	return StatusUnknown
}
