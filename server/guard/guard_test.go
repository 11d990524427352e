package guard

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/remotectl/remotectl/internal/errdefs"
	"github.com/remotectl/remotectl/internal/pki"
	"github.com/remotectl/remotectl/server/audit"
	"github.com/remotectl/remotectl/server/authz"
	"github.com/remotectl/remotectl/server/service"
)

// fakeBackend resolves impacts from a table and counts the changes it makes.
type fakeBackend struct {
	service.Manager
	impacts map[string]service.Impact
	lookup  error // returned by Impact when set
	panics  bool
	actErr  error // returned by Start/Stop/Restart when set
	getErr  error // returned by Get when set
	acted   []string
}

func (f *fakeBackend) Impact(_ context.Context, op service.Op, name string, _ service.ControlOptions) (service.Impact, error) {
	if f.lookup != nil {
		return service.Impact{Op: op, Target: name}, f.lookup
	}
	imp := f.impacts[name]
	imp.Op = op
	if imp.Target == "" {
		imp.Target = name
	}
	return imp, nil
}

func (f *fakeBackend) Get(_ context.Context, name string) (service.Service, error) {
	return service.Service{Name: name, State: service.StateRunning}, f.getErr
}

func (f *fakeBackend) act(name string) (service.Result, error) {
	f.acted = append(f.acted, name)
	if f.panics {
		panic("backend bug")
	}
	if f.actErr != nil {
		return service.Result{}, f.actErr
	}
	return service.Result{Service: service.Service{Name: name, State: service.StateStopped}, PreviousState: service.StateRunning, Changed: true}, nil
}

func (f *fakeBackend) Start(_ context.Context, n string, _ service.ControlOptions) (service.Result, error) {
	return f.act(n)
}

func (f *fakeBackend) Stop(_ context.Context, n string, _ service.ControlOptions) (service.Result, error) {
	return f.act(n)
}

func (f *fakeBackend) Restart(_ context.Context, n string, _ service.ControlOptions) (service.Result, error) {
	return f.act(n)
}

var (
	operator = pki.Identity{CommonName: "alice", OrganizationalUnits: []string{"operators"}}
	admin    = pki.Identity{CommonName: "root", OrganizationalUnits: []string{"admins"}}
)

func newGuarded(t *testing.T, b *fakeBackend) (service.Manager, *bytes.Buffer) {
	t.Helper()
	p, err := authz.New(authz.Config{
		Bindings: []authz.Binding{{OU: "operators", Role: authz.RoleOperator}, {OU: "admins", Role: authz.RoleAdmin}},
		// Operators may control the app units only.
		RoleServiceAllow: map[string][]string{authz.RoleOperator: {"app-*"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	return Services(b, Config{Policy: func() *authz.Policy { return p }, Audit: audit.NewSink(&buf, "buf", nil),
		Limiter: NewLimiter(1000, 1000), Log: zerolog.Nop()}), &buf
}

func as(id pki.Identity, op service.Op) context.Context {
	return WithCaller(context.Background(), Caller{Identity: id, Peer: "127.0.0.1:1", Method: Methods[op]})
}

func records(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("audit line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

// TestChangesJudgedOnEverythingTheyTouch: the rules apply to every service
// a change would stop, restart or start, not only to the one named
// (findings 1, 2 and 13).
func TestChangesJudgedOnEverythingTheyTouch(t *testing.T) {
	impacts := map[string]service.Impact{
		"app-db":       {Target: "app-db.service", State: service.StateRunning, Stops: []string{"billing.service"}},
		"app-lib":      {Target: "app-lib.service", State: service.StateRunning, Stops: []string{"sshd.service"}},
		"app-cache":    {Target: "app-cache.service", State: service.StateRunning, Restarts: []string{"app-web.service"}},
		"app-x":        {Target: "app-x.service", Stops: []string{"app-y.service"}},
		"app-reboot":   {Target: "app-reboot.service", PowerActions: []string{"app-reboot.service: SuccessAction=reboot"}},
		"systemd-halt": {Target: "systemd-halt.service"},
		"app-pulls":    {Target: "app-pulls.service", Starts: []string{"poweroff.target"}},
	}
	cases := []struct {
		name string
		id   pki.Identity
		op   service.Op
		svc  string
		deps bool
		want error
		msg  string
	}{
		{"allow-list bypass through a dependent", operator, service.OpStop, "app-db", true, errdefs.ErrPermissionDenied, `would stop "billing.service", which is not in the role_service_allow`},
		{"protected dependent", admin, service.OpStop, "app-lib", true, errdefs.ErrPermissionDenied, `protected service "sshd.service"`},
		{"restart of an allowed dependent", operator, service.OpRestart, "app-cache", true, nil, ""},
		{"dependents without stop_dependents", admin, service.OpStop, "app-x", false, errdefs.ErrFailedPrecondition, "app-y.service"},
		{"dependents with stop_dependents", admin, service.OpStop, "app-x", true, nil, ""},
		{"power action", admin, service.OpStart, "app-reboot", false, errdefs.ErrPermissionDenied, "SuccessAction=reboot"},
		{"power unit by name", admin, service.OpStart, "systemd-halt", false, errdefs.ErrPermissionDenied, `rule power_units "systemd-halt*"`},
		{"power unit pulled in", admin, service.OpStart, "app-pulls", false, errdefs.ErrPermissionDenied, `starting "poweroff.target"`},
		{"stopping a power unit is no power action", admin, service.OpStop, "rescue-shell", false, nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := &fakeBackend{impacts: impacts}
			g, buf := newGuarded(t, b)
			op := map[service.Op]func(context.Context, string, service.ControlOptions) (service.Result, error){
				service.OpStart: g.Start, service.OpStop: g.Stop, service.OpRestart: g.Restart}[tc.op]
			_, err := op(as(tc.id, tc.op), tc.svc, service.ControlOptions{StopDependents: tc.deps})
			recs := records(t, buf)
			if tc.want == nil {
				if err != nil || len(b.acted) != 1 {
					t.Fatalf("err %v, acted %v; want one change", err, b.acted)
				}
				if len(recs) != 2 || recs[0]["event"] != "intent" || recs[1]["event"] != "result" {
					t.Fatalf("audit %v, want intent and result", recs)
				}
				return
			}
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err %v, want %v naming %q", err, tc.want, tc.msg)
			}
			if len(b.acted) != 0 {
				t.Fatalf("the backend acted on %v despite the refusal", b.acted)
			}
			if len(recs) != 1 || recs[0]["event"] != "denied" || !strings.Contains(fmt.Sprint(recs[0]["message"]), tc.msg) {
				t.Fatalf("audit %v, want one denial naming %q", recs, tc.msg)
			}
		})
	}
}

// TestUnresolvableChangeIsDenied: when the effect of a change cannot be
// resolved the change is refused, unless the name simply does not exist
// or is malformed (finding 13: the old check failed open).
func TestUnresolvableChangeIsDenied(t *testing.T) {
	for _, tc := range []struct {
		lookup error
		acts   bool
	}{
		{fmt.Errorf("%w: systemd is restarting", errdefs.ErrUnavailable), false},
		{fmt.Errorf("%w: lookup timed out", errdefs.ErrDeadlineExceeded), false},
		{errors.New("odd"), false},
		{fmt.Errorf("%w: no such unit", errdefs.ErrNotFound), true},
	} {
		b := &fakeBackend{lookup: tc.lookup}
		g, _ := newGuarded(t, b)
		_, err := g.Stop(as(admin, service.OpStop), "app-alias", service.ControlOptions{})
		if acted := len(b.acted) > 0; acted != tc.acts {
			t.Errorf("lookup %v: acted %v (err %v), want %v", tc.lookup, acted, err, tc.acts)
		}
	}
}

// TestResultRecordedOnPanic: the result record is written even when the
// backend panics (finding 11).
func TestResultRecordedOnPanic(t *testing.T) {
	b := &fakeBackend{panics: true}
	g, buf := newGuarded(t, b)
	func() {
		defer func() { _ = recover() }()
		_, _ = g.Start(as(admin, service.OpStart), "app-a", service.ControlOptions{})
	}()
	recs := records(t, buf)
	if len(recs) != 2 || recs[1]["event"] != "result" || recs[1]["outcome"] != "Internal" || recs[1]["state_after"] != "running" {
		t.Fatalf("audit %v, want intent and an Internal result with the observed state", recs)
	}
}

// TestDenialsSampledPerIdentity: an authenticated caller hammering refused
// changes gets DenialsPerIdentity records per interval, not one per call
// (finding 11).
func TestDenialsSampledPerIdentity(t *testing.T) {
	b := &fakeBackend{}
	g, buf := newGuarded(t, b)
	for range 500 {
		_, _ = g.Stop(as(operator, service.OpStop), "sshd", service.ControlOptions{})
	}
	if n := len(records(t, buf)); n != DenialsPerIdentity {
		t.Fatalf("%d audit records for 500 denials, want %d", n, DenialsPerIdentity)
	}
	_, _ = g.Stop(as(admin, service.OpStop), "sshd", service.ControlOptions{})
	if n := len(records(t, buf)); n != DenialsPerIdentity+1 {
		t.Fatalf("another identity's denial was not recorded (%d records)", n)
	}
}

func TestNoCallerNoChange(t *testing.T) {
	b := &fakeBackend{}
	g, _ := newGuarded(t, b)
	if _, err := g.Stop(context.Background(), "app-a", service.ControlOptions{}); !errors.Is(err, errdefs.ErrPermissionDenied) || len(b.acted) > 0 {
		t.Fatalf("err %v acted %v", err, b.acted)
	}
}

// TestResultRecordsWhatWasObserved: when a change fails, the result record
// carries the state read back afterwards; a backend that went away (the
// host powering off) shows as unobservable (finding 11).
func TestResultRecordsWhatWasObserved(t *testing.T) {
	b := &fakeBackend{actErr: fmt.Errorf("%w: lost the D-Bus connection", errdefs.ErrUnavailable),
		getErr: fmt.Errorf("%w: systemd is not reachable", errdefs.ErrUnavailable)}
	g, buf := newGuarded(t, b)
	_, _ = g.Stop(as(admin, service.OpStop), "app-a", service.ControlOptions{})
	recs := records(t, buf)
	if len(recs) != 2 || recs[1]["outcome"] != "Unavailable" || recs[1]["state_after"] != "unobservable: Unavailable" {
		t.Fatalf("audit %v, want a result with the state unobservable", recs)
	}
}
