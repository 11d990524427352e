package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/remotectl/remotectl/client"
)

// Progress pacing: the spinner redraws every spinEvery; the service's state
// is asked every pollEvery while the control call runs.
const (
	spinEvery = 100 * time.Millisecond
	pollEvery = 500 * time.Millisecond
)

var spinner = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

// progressWriter is where the progress line goes: stderr when it is a
// terminal (results stay alone on stdout), nil otherwise.
func (a *app) progressWriter() io.Writer {
	if a.progressTo != nil {
		return a.progressTo
	}
	if f, ok := a.stderr.(*os.File); ok && isTerminal(f) {
		return f
	}
	return nil
}

// withProgress runs call; while it runs, one self-redrawing line on w shows
// a spinner, label, the latest answer of poll and the time elapsed. The line
// is erased before returning, so the result prints on a clean screen.
func withProgress[T any](ctx context.Context, w io.Writer, label string, call func(context.Context) (T, error), poll func(context.Context) string) (T, error) {
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := call(ctx)
		done <- result{v, err}
	}()

	pctx, stop := context.WithCancel(ctx)
	states := make(chan string)
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(pollEvery)
		defer t.Stop()
		for {
			s := poll(pctx)
			select {
			case states <- s:
			case <-pctx.Done():
				return
			}
			select {
			case <-t.C:
			case <-pctx.Done():
				return
			}
		}
	})
	defer wg.Wait()
	defer stop()

	start := time.Now()
	spin := time.NewTicker(spinEvery)
	defer spin.Stop()
	state, frame := "", 0
	for {
		select {
		case r := <-done:
			_, _ = io.WriteString(w, "\r\x1b[K")
			return r.v, r.err
		case state = <-states:
		case <-spin.C:
			frame++
			line := spinner[frame%len(spinner)] + " " + label
			if state != "" {
				line += ": " + state
			}
			line += fmt.Sprintf(" (%.1fs)", time.Since(start).Seconds())
			_, _ = io.WriteString(w, "\r\x1b[K"+line)
		}
	}
}

// serviceState is the progress line's view of a service: "stopping
// (deactivating), pid 812"; "" when it cannot be read right now.
func serviceState(ctx context.Context, c *client.Client, name string) string {
	s, err := c.GetService(ctx, name)
	if err != nil {
		return ""
	}
	v := newServiceView(s)
	st := v.State
	if v.NativeState != "" && v.NativeState != v.State {
		st += " (" + clean(v.NativeState) + ")"
	}
	if v.MainPID > 0 {
		st += fmt.Sprintf(", pid %d", v.MainPID)
	}
	return st
}

// interrupted explains a control call the user cancelled: the agent does not
// undo or cancel a change it has asked the OS for, so say what goes on
// without ctl and where the service stands now.
func (a *app) interrupted(c *client.Client, action, name string, elapsed time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), completionTimeout)
	defer cancel()
	osName := ""
	if hb, err := c.Heartbeat(ctx); err == nil {
		osName = hb.GetOs()
	}
	now := serviceState(ctx, c, name)
	if now == "" {
		now = "unknown (the agent did not answer)"
	}
	err := fmt.Errorf("interrupted after %s; %s; its state now: %s", elapsed.Round(100*time.Millisecond), carriesOn(osName, action, name), now)
	return &hintedError{err, exitInterrupted, fmt.Sprintf("check it with `ctl svc get %s`", name)}
}

// carriesOn says what happens to a request whose caller went away: systemd
// runs the queued job to its end; the Windows SCM finishes the stop or start
// it was sent, but a restart the agent sequences stops where it was.
func carriesOn(osName, action, name string) string {
	name = clean(name)
	switch {
	case osName == "linux":
		return fmt.Sprintf("the agent does not cancel the %s: systemd carries on with the job for %s", action, name)
	case osName == "windows" && action == "restart":
		return fmt.Sprintf("the agent stops sequencing the restart: if %s was still stopping it will not be started again (run `ctl svc start %s`)", name, name)
	case osName == "windows":
		return fmt.Sprintf("the agent does not cancel the %s: the service control manager carries on with %s", action, name)
	}
	return fmt.Sprintf("the agent does not cancel a %s it has asked the OS for", action)
}

// controlProgress runs one start/stop/restart call, with a progress line on
// a terminal, and explains a Ctrl-C.
func (a *app) controlProgress(ctx context.Context, c *client.Client, action, name string, call func(context.Context) (*client.ControlResult, error)) (*client.ControlResult, error) {
	start := time.Now()
	var r *client.ControlResult
	var err error
	if w := a.progressWriter(); w != nil {
		label := map[string]string{"start": "starting", "stop": "stopping", "restart": "restarting"}[action] + " " + clean(name)
		r, err = withProgress(ctx, w, label, call, func(ctx context.Context) string { return serviceState(ctx, c, name) })
	} else {
		r, err = call(ctx)
	}
	if err != nil && ctx.Err() != nil && errors.Is(ctx.Err(), context.Canceled) {
		return nil, a.interrupted(c, action, name, time.Since(start))
	}
	return r, err
}
