package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/status"

	"github.com/remotectl/remotectl/client"
)

// Exit codes: a contract with scripts (docs/cli.md, ctl --help).
const (
	exitOK           = 0
	exitError        = 1 // anything not listed below
	exitUsage        = 2 // bad flags or arguments (also INVALID_ARGUMENT from the agent)
	exitNotFound     = 3
	exitAuth         = 4   // permission denied, unauthenticated, TLS refusal, unusable credentials
	exitUnavailable  = 5   // agent unreachable
	exitTimeout      = 6   // deadline exceeded
	exitPrecondition = 7   // the OS refused the change in the current state
	exitBackend      = 8   // the agent answered, but the capability is unavailable on its host
	exitInterrupted  = 130 // Ctrl-C before the agent answered a change (128 + SIGINT, as shells report it)
	// Runs on many hosts (docs/fleet.md): every host answered but some
	// failed; some hosts did not answer (unreachable or timed out).
	exitSomeFailed      = 10
	exitSomeUnreachable = 11
)

const exitCodesHelp = `Exit codes:
  0  success
  1  other error
  2  usage error (bad flags or arguments, or arguments the agent rejected)
  3  not found (no such service or process, or a process identity gone stale)
  4  permission denied or unauthenticated (TLS refusal, unusable certificates)
  5  agent unreachable (refused, DNS, network, shutting down)
  6  timed out (the RPC deadline --timeout or the service --wait expired)
  7  failed precondition (the OS refused the change in the current state)
  8  the agent is up but the capability is unavailable on its host (e.g. no systemd)
  10 on many hosts: some hosts failed (every host answered)
  11 on many hosts: some hosts unreachable or timed out
  130  interrupted (Ctrl-C) while svc start|stop|restart waited; the change goes on`

// fleetExit ends a run on many hosts with its exit code; the per-host
// errors and the summary line are already on stderr.
type fleetExit struct{ code int }

func (e *fleetExit) Error() string { return "exit status " + strconv.Itoa(e.code) }

// usageError is a mistake on the command line (exit 2).
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// hintedError carries its own exit code and hint; ctl's local failures
// (credentials, files) use it where the classification below cannot know.
type hintedError struct {
	err  error
	code int
	hint string
}

func (e *hintedError) Error() string { return e.err.Error() }
func (e *hintedError) Unwrap() error { return e.err }

// opError names what failed ("list processes") and may override the hint
// for an exit code where the command knows better (svc NotFound).
type opError struct {
	op    string
	err   error
	hints map[int]string
}

func (e *opError) Error() string { return e.op + ": " + e.err.Error() }
func (e *opError) Unwrap() error { return e.err }

func wrapOp(op string, err error, hints map[int]string) error {
	if err == nil {
		return nil
	}
	return &opError{op: op, err: err, hints: hints}
}

// target is what the hints talk about: where ctl connected and with what.
type target struct {
	host, serverName string
	cacert, cert     string
	key              string
	insecure         bool
}

// describe classifies err into an exit code and renders the single stderr
// line `ctl: <what failed>: <reason> (hint: <hint>)`.
func describe(err error, cmdPath string, t target) (int, string) {
	what := cmdPath
	var hints map[int]string
	var oe *opError
	if errors.As(err, &oe) {
		what, hints = oe.op, oe.hints
	}
	code, hint := classify(err, t)
	// Command-specific hints replace generic ones, but never the
	// connection diagnoses behind codes 4 and 5.
	if h, ok := hints[code]; ok && code != exitAuth && code != exitUnavailable && code != exitBackend {
		hint = h
	}
	line := "ctl: "
	if what != "" {
		line += what + ": "
	}
	line += reasonOf(err)
	if hint != "" {
		line += " (hint: " + hint + ")"
	}
	return code, line
}

// classify maps err to an exit code and a generic hint. Client errors match
// the client sentinels with errors.Is; transport failures arrive as
// UNAVAILABLE and are told apart by the wording of crypto/tls, crypto/x509
// and net that grpc-go passes through.
func classify(err error, t target) (int, string) {
	var ue *usageError
	var he *hintedError
	switch {
	case errors.As(err, &ue):
		return exitUsage, ""
	case errors.As(err, &he):
		return he.code, he.hint
	case errors.Is(err, client.ErrNotFound):
		return exitNotFound, ""
	case errors.Is(err, client.ErrPermissionDenied) && strings.Contains(statusMessage(err), " is protected"):
		return exitAuth, "the agent refuses this for every identity (protected target); docs/security.md lists the rules"
	case errors.Is(err, client.ErrPermissionDenied):
		return exitAuth, "your identity lacks permission for this operation"
	case errors.Is(err, client.ErrUnauthenticated):
		return exitAuth, clientCertHint(t)
	case errors.Is(err, client.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded):
		return exitTimeout, "the agent did not answer in time; raise --timeout or check the network"
	case errors.Is(err, client.ErrFailedPrecondition):
		return exitPrecondition, ""
	case errors.Is(err, client.ErrInvalidArgument):
		return exitUsage, "" // the caller adds "see `ctl <command> --help`"
	case errors.Is(err, client.ErrUnavailable):
		return classifyUnavailable(err, t)
	case errors.Is(err, client.ErrNotSupported):
		return exitError, "the agent's platform has no backend for this operation"
	}
	return exitError, ""
}

func classifyUnavailable(err error, t target) (int, string) {
	m := strings.ToLower(statusMessage(err))
	has := func(subs ...string) bool {
		for _, s := range subs {
			if strings.Contains(m, s) {
				return true
			}
		}
		return false
	}
	switch {
	case has("certificate is valid for", "certificate is not valid for any names", "doesn't contain any ip sans"):
		return exitAuth, fmt.Sprintf("the agent's certificate is not valid for %s; use --server-name or a name it lists", orDefault(t.serverName, hostOnly(t.host)))
	case has("certificate has expired or is not yet valid"):
		return exitAuth, "the agent's certificate has expired or is not yet valid; renew it, and check both clocks"
	case has("x509:", "failed to verify certificate"):
		return exitAuth, fmt.Sprintf("the agent's certificate is not signed by %s; pass the agent's CA with --cacert", orDefault(t.cacert, "the CA given"))
	case has("remote error: tls:"):
		// Alerts sent by the agent: certificate required, bad certificate,
		// unknown certificate authority, expired certificate, ...
		return exitAuth, clientCertHint(t)
	case has("first record does not look like a tls handshake"):
		return exitAuth, fmt.Sprintf("the agent on %s speaks plaintext (started with --insecure?); pass --insecure, on loopback only", t.host)
	case t.insecure && has("error reading server preface", "http2: frame too large", "eof", "connection reset"):
		return exitAuth, fmt.Sprintf("the agent on %s requires mutual TLS; drop --insecure and pass --cacert/--cert/--key", t.host)
	case has("goaway", "server is closing", "transport is closing"):
		return exitUnavailable, fmt.Sprintf("the agent on %s closed the connection (stopping or restarting?); run the command again", t.host)
	case has("connection error", "transport", "connection refused", "no such host", "produced zero addresses",
		"i/o timeout", "network is unreachable", "no route to host", "connection reset", "name resolver error",
		"broken pipe", "dial tcp", "read tcp", "write tcp", "error reading server preface"):
		return exitUnavailable, fmt.Sprintf("is ctld running on %s? start it with `ctld run`", t.host)
	}
	// The agent answered, but its backend (systemd, ...) is unavailable:
	// its own exit code, so scripts tell it from an agent that is down.
	return exitBackend, "the agent is up but cannot serve this on its host; `ctl heartbeat` lists its backends"
}

func clientCertHint(t target) string {
	if t.insecure {
		return fmt.Sprintf("the agent on %s requires mutual TLS; drop --insecure and pass --cacert/--cert/--key", t.host)
	}
	return fmt.Sprintf("the agent refused your client certificate (%s): is it issued by the agent's CA and still valid?", orDefault(t.cert, "none given"))
}

// statusMessage is the agent's or grpc-go's own message, without the
// wrapping added on the way up.
func statusMessage(err error) string {
	var gs interface{ GRPCStatus() *status.Status }
	if errors.As(err, &gs) && gs.GRPCStatus() != nil {
		return gs.GRPCStatus().Message()
	}
	return err.Error()
}

// reasonOf renders err as one readable line. Transport failures are
// unwrapped from grpc-go's `connection error: desc = "transport: ..."`
// so the line shows the actual TLS or network error.
func reasonOf(err error) string {
	var oe *opError
	if errors.As(err, &oe) {
		err = oe.err
	}
	msg := err.Error()
	if sm := statusMessage(err); strings.Contains(sm, `desc = "`) {
		rest := sm[strings.Index(sm, `desc = "`)+len(`desc = `):]
		msg = rest
		if q, qerr := strconv.QuotedPrefix(rest); qerr == nil {
			u, _ := strconv.Unquote(q)
			msg = u + rest[len(q):]
		}
		for _, p := range []string{"transport: Error while dialing: ", "transport: authentication handshake failed: ", "transport: "} {
			msg = strings.TrimPrefix(msg, p)
		}
	}
	return strings.Join(strings.Fields(msg), " ")
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func hostOnly(hostport string) string {
	if i := strings.LastIndex(hostport, ":"); i > 0 && !strings.HasSuffix(hostport, "]") {
		return strings.Trim(hostport[:i], "[]")
	}
	return hostport
}

// streamEnded explains a watch whose events ended without a stream error:
// the user's Ctrl-C (nil, exit 0) or the agent closing it.
func streamEnded(ctx context.Context, op string) error {
	if ctx.Err() == nil {
		return &hintedError{fmt.Errorf("%s: the agent ended the stream", op), exitUnavailable, "the agent may be restarting; run the command again"}
	}
	return nil // the user ended the watch: success
}

// unanswered explains a deadline that expired before any connection to the
// agent was up: something accepted the TCP connection (or dropped the
// packets) but no TLS handshake completed. The generic timeout hints would
// blame --timeout or --wait; this names the connection.
func unanswered(c *client.Client, host string, err error) error {
	if err == nil || !errors.Is(err, client.ErrDeadlineExceeded) && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if c.Conn().GetState() == connectivity.Ready {
		return err // the agent answered the handshake: the call itself was slow
	}
	he := &hintedError{
		fmt.Errorf("no answer from the agent on %s: the connection or its TLS handshake did not complete before the deadline", host),
		exitTimeout, "is ctld hung, or is a firewall dropping packets? check ctld on its host, or raise --timeout",
	}
	var oe *opError
	if errors.As(err, &oe) {
		return &opError{op: oe.op, err: he}
	}
	return he
}

// flagError rewords a flag value pflag could not parse without Go's parser
// jargon: `invalid --top "-1": want a whole number >= 0` rather than
// `strconv.ParseUint: parsing "-1": invalid syntax`.
func flagError(err error) error {
	var ive *pflag.InvalidValueError
	if !errors.As(err, &ive) {
		return &usageError{err}
	}
	typ := ive.GetFlag().Value.Type()
	var want string
	switch base := strings.TrimSuffix(typ, "Slice"); {
	case strings.HasPrefix(base, "uint"):
		want = "a whole number >= 0"
	case strings.HasPrefix(base, "int"):
		want = "a whole number"
	case strings.HasPrefix(base, "float"):
		want = "a number"
	case base == "duration":
		want = "a duration such as 500ms, 10s or 2m"
	case base == "bool":
		want = "true or false"
	default:
		return &usageError{err}
	}
	if strings.HasSuffix(typ, "Slice") {
		want += " (or a comma list of them)"
	}
	if errors.Is(err, strconv.ErrRange) {
		want += " in range"
	}
	return usagef("invalid --%s %q: want %s", ive.GetFlag().Name, ive.GetValue(), want)
}
