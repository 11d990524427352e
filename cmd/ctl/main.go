// Command ctl is the remotectl command-line client: it lists and watches
// processes, controls services and checks the health of a ctld agent over
// mutual TLS, and manages the certificates that secure it.
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

func main() {
	// ctl is short-lived and its largest job, a listing of thousands of
	// processes, is one burst of allocation: collect 4x less often than
	// the default (watches stay bounded: their live heap is small).
	debug.SetGCPercent(400)
	// SIGINT/SIGTERM cancel the context: watches end cleanly with exit 0.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// After the first signal, restore the default so a second one kills ctl.
	go func() { <-ctx.Done(); stop() }()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes one ctl command line and returns its exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return newApp(stdout, stderr, os.LookupEnv).run(ctx, args)
}
