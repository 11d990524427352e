package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// ctldProc is the real daemon run as a child of the test.
type ctldProc struct {
	cmd    *exec.Cmd
	addr   string
	exited chan error

	mu      sync.Mutex
	log     bytes.Buffer
	stopped bool
	err     error
}

// launchCtld runs `ctld run --log-format json args...` and returns once the
// daemon logged "ctld started" (its address is in that line), failing the
// test if it exits or says nothing within 20 s. The test's cleanup stops it.
func launchCtld(t *testing.T, ctld string, args ...string) *ctldProc {
	t.Helper()
	p := &ctldProc{exited: make(chan error, 1)}
	p.cmd = exec.Command(ctld, append([]string{"run", "--log-format", "json"}, args...)...)
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	started := make(chan string, 1)
	go func() {
		for sc := bufio.NewScanner(stderr); sc.Scan(); {
			p.mu.Lock()
			p.log.Write(append(sc.Bytes(), '\n'))
			p.mu.Unlock()
			var line struct{ Message, Listen string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Message == "ctld started" {
				started <- line.Listen
			}
		}
		p.exited <- p.cmd.Wait()
	}()
	t.Cleanup(func() { _ = p.stop(t) })
	select {
	case p.addr = <-started:
		return p
	case err := <-p.exited:
		t.Fatalf("ctld exited at start: %v\n%s", err, p.logs())
	case <-time.After(20 * time.Second):
		t.Fatalf("ctld did not start within 20s\n%s", p.logs())
	}
	return nil
}

// logs is what the daemon wrote to stderr so far.
func (p *ctldProc) logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// pid is the daemon's process ID.
func (p *ctldProc) pid() int { return p.cmd.Process.Pid }

// process is the daemon's process, for signals.
func (p *ctldProc) process() *os.Process { return p.cmd.Process }

// stop sends SIGTERM and waits up to 10 s for the exit (then kills it and
// fails the test); it returns the exit error. Later calls return the same.
func (p *ctldProc) stop(t *testing.T) error {
	p.mu.Lock()
	if p.stopped {
		defer p.mu.Unlock()
		return p.err
	}
	p.stopped = true
	p.mu.Unlock()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	var err error
	select {
	case err = <-p.exited:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		t.Error("ctld did not exit within 10s of SIGTERM")
		err = <-p.exited
	}
	p.mu.Lock()
	p.err = err
	p.mu.Unlock()
	return err
}

// stoppedCleanly says whether the daemon drained and logged its stop.
func (p *ctldProc) stoppedCleanly() bool { return strings.Contains(p.logs(), `"ctld stopped"`) }
