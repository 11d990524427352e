package main

import (
	"context"
	"fmt"
	"time"

	"github.com/remotectl/remotectl/client"
)

// follow is the one loop of the following commands (ps watch, svc watch,
// logs -f). It opens the stream
// with open, bounding only the opening by --timeout (the stream itself runs
// until interrupted), prints header (when not empty) and then every item
// with emit, and tells why the stream ended. what names the opening in the
// timeout error ("watch", "follow"); hints refine the opening's errors.
func follow[T any, S interface{ Err() error }](ctx context.Context, a *app, op, what string, hints map[int]string,
	open func(context.Context) (S, error), items func(S) <-chan T, header string, emit func(T) error) error {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	timer := time.AfterFunc(a.g.timeout, cancel)
	s, err := open(sctx)
	fired := !timer.Stop()
	switch {
	case ctx.Err() != nil:
		return nil // interrupted before the first item
	case fired:
		return wrapOp(op, fmt.Errorf("%w: the agent did not confirm the %s within %s", client.ErrDeadlineExceeded, what, a.g.timeout), nil)
	case err != nil:
		return wrapOp(op, err, hints)
	}
	if header != "" {
		if err := a.out.Header(header); err != nil {
			return err
		}
	}
	for it := range items(s) {
		if err := emit(it); err != nil {
			return err
		}
	}
	if err := s.Err(); err != nil {
		return wrapOp(op, err, hints)
	}
	return streamEnded(ctx, op)
}

// record prints one item of a stream: v as an NDJSON line with -o json,
// else the text line line(v).
func record[V any](o *output, v V, line func(V) string) error {
	if o.json() {
		return o.JSONLine(v)
	}
	return o.Line(line(v))
}

// tableHeader is the header of a text stream; JSON streams have none.
func (a *app) tableHeader(format string, cols ...any) string {
	if a.out.json() {
		return ""
	}
	return fmt.Sprintf(format, cols...)
}

// reconnectNote is the stderr note of every following watch.
func (a *app) reconnectNote(err error, delay time.Duration) {
	a.diag("ctl: watch interrupted (%s); reconnecting in %s", reasonOf(err), delay.Round(time.Millisecond))
}
