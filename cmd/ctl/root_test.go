package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runApp runs ctl and returns the app, to inspect the resolved globals.
func runApp(t *testing.T, env map[string]string, args ...string) (*app, result) {
	t.Helper()
	if env == nil {
		env = map[string]string{}
	}
	if _, ok := env["CTLD_STATE_DIR"]; !ok {
		env["CTLD_STATE_DIR"] = filepath.Join(t.TempDir(), "state")
	}
	var out, errb syncBuffer
	a := newApp(&out, &errb, envOf(env))
	code := a.run(context.Background(), args)
	return a, result{code: code, stdout: out.String(), stderr: errb.String()}
}

func TestGlobalFlagsAndEnvPrecedence(t *testing.T) {
	cert := newTestPKI(t).CACert // certs inspect needs no agent: it exercises the globals only
	tests := []struct {
		name    string
		env     map[string]string
		flags   []string
		host    string
		timeout time.Duration
		output  string
	}{
		{"defaults", nil, nil, "localhost:7443", 30 * time.Second, "table"},
		{"env", map[string]string{"CTL_HOST": "agent1:9000", "CTL_TIMEOUT": "5s", "CTL_OUTPUT": "json"}, nil, "agent1:9000", 5 * time.Second, "json"},
		{"flags win over env", map[string]string{"CTL_HOST": "agent1:9000", "CTL_TIMEOUT": "5s", "CTL_OUTPUT": "json"},
			[]string{"--host", "agent2:9001", "--timeout", "7s", "-o", "table"}, "agent2:9001", 7 * time.Second, "table"},
		{"empty env is unset", map[string]string{"CTL_HOST": "", "CTL_OUTPUT": ""}, nil, "localhost:7443", 30 * time.Second, "table"},
		{"host without port", map[string]string{"CTL_HOST": "agent3"}, nil, "agent3:7443", 30 * time.Second, "table"},
		{"IPv6 without port", nil, []string{"--host", "::1"}, "[::1]:7443", 30 * time.Second, "table"},
		{"long output flag", nil, []string{"--output", "json"}, "localhost:7443", 30 * time.Second, "json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, r := runApp(t, tt.env, append(tt.flags, "certs", "inspect", cert)...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			if a.g.host != tt.host || a.g.timeout != tt.timeout || a.g.output != tt.output {
				t.Errorf("host %q timeout %v output %q; want %q %v %q", a.g.host, a.g.timeout, a.g.output, tt.host, tt.timeout, tt.output)
			}
			if isJSON := strings.HasPrefix(r.stdout, "["); isJSON != (tt.output == "json") {
				t.Errorf("output format not applied: %.40q", r.stdout)
			}
		})
	}
}

func TestCredentialEnvFallbacks(t *testing.T) {
	p := newTestPKI(t)
	a, _ := runApp(t, map[string]string{"CTL_CACERT": p.CACert, "CTL_CERT": "/env/client.crt", "CTL_KEY": p.ClientKey, "CTL_SERVER_NAME": "agent.example"},
		"--cert", p.ClientCert, "certs", "inspect", p.CACert)
	ca, cert, key, err := a.credentials()
	if err != nil || ca != p.CACert || cert != p.ClientCert || key != p.ClientKey || a.g.serverName != "agent.example" {
		t.Errorf("credentials %q %q %q %v, server name %q", ca, cert, key, err, a.g.serverName)
	}
}

func TestDefaultCertsDirErrors(t *testing.T) {
	state := t.TempDir()
	certs := filepath.Join(state, "certs")
	if err := os.MkdirAll(certs, 0o700); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"CTLD_STATE_DIR": state}

	_, r := runApp(t, env, "--host", "127.0.0.1:1", "heartbeat")
	if r.code != exitAuth || !strings.Contains(r.stderr, "no ca.crt in "+certs) || !strings.Contains(r.stderr, "CTLD_STATE_DIR") {
		t.Errorf("nothing found: %d %q", r.code, r.stderr)
	}

	// ca.crt present but the client pair missing.
	p := newTestPKI(t)
	data, _ := os.ReadFile(p.CACert)
	if err := os.WriteFile(filepath.Join(certs, "ca.crt"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	_, r = runApp(t, env, "--host", "127.0.0.1:1", "heartbeat")
	if r.code != exitAuth || !strings.Contains(r.stderr, "client.crt") {
		t.Errorf("client pair missing: %d %q", r.code, r.stderr)
	}
}

func TestDefaultCertsDirUnreadable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads any file: permission errors cannot be produced")
	}
	p := newTestPKI(t)
	state := t.TempDir()
	if err := os.Symlink(p.dir, filepath.Join(state, "certs")); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p.ClientKey, 0); err != nil {
		t.Fatal(err)
	}
	_, r := runApp(t, map[string]string{"CTLD_STATE_DIR": state}, "--host", "127.0.0.1:1", "heartbeat")
	if r.code != exitAuth || !strings.Contains(r.stderr, "permission denied") || !strings.Contains(r.stderr, "run ctl as the user that runs ctld") {
		t.Errorf("%d %q", r.code, r.stderr)
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{}, nil, "missing subcommand"},
		{[]string{"bogus"}, nil, `unknown command "bogus" for "ctl"`},
		{[]string{"svc"}, nil, "missing subcommand: one of disable, enable, get, logs, ls, restart, set-start-type, start, stop"},
		{[]string{"svc", "lss"}, nil, "did you mean `ctl svc ls`?"},
		{[]string{"svc", "get"}, nil, "expected one service NAME"},
		{[]string{"svc", "stop", "a", "b"}, nil, "expected one service NAME"},
		{[]string{"svc", "stop", "--wait", "-1s", "nginx"}, nil, "must not be negative"},
		{[]string{"svc", "ls", "--state", "sleepy"}, nil, `invalid --state "sleepy"`},
		{[]string{"ps", "--bogus"}, nil, "unknown flag: --bogus"},
		{[]string{"ps", "extra"}, nil, `unexpected argument "extra"`},
		{[]string{"ps", "--sort", "name"}, nil, `invalid --sort "name"`},
		{[]string{"ps", "--fields", "name,colour"}, nil, `unknown field "colour"`},
		{[]string{"ps", "--pid", "-3"}, nil, "invalid --pid -3"},
		{[]string{"ps", "--pid", "x"}, nil, `invalid --pid "x": want a whole number (or a comma list of them)`},
		{[]string{"ps", "--top", "-1"}, nil, `invalid --top "-1": want a whole number >= 0`},
		{[]string{"ps", "--top", "99999999999"}, nil, `invalid --top "99999999999": want a whole number >= 0 in range`},
		{[]string{"heartbeat", "--timeout", "soon"}, nil, `invalid --timeout "soon": want a duration`},
		{[]string{"heartbeat", "--watch", "soon"}, nil, `unexpected argument "soon"`},
		{[]string{"ps", "watch", "--name", "["}, nil, "invalid --name glob"},
		{[]string{"ps", "-o", "xml"}, nil, `invalid output format "xml"`},
		{[]string{"ps"}, map[string]string{"CTL_OUTPUT": "xml"}, `invalid output format "xml"`},
		{[]string{"ps", "-o", "jsonpath={.a"}, nil, "invalid -o jsonpath template"},
		{[]string{"ps", "-o", "go-template={{.a"}, nil, "invalid -o go-template"},
		{[]string{"ps", "--width", "-1"}, nil, "invalid --width -1"},
		{[]string{"ps"}, map[string]string{"CTL_TIMEOUT": "soon"}, `invalid CTL_TIMEOUT="soon"`},
		{[]string{"ps", "--timeout", "0s"}, nil, "must be positive"},
		{[]string{"ps", "--host", "a b:1"}, nil, "invalid --host"},
		{[]string{"ps", "--host", "agent:http"}, nil, "invalid --host"},
		{[]string{"ps", "--host", ":7443"}, nil, "invalid --host"},
		{[]string{"ps", "--insecure", "--cacert", "x"}, nil, "--insecure cannot be combined with --cacert"},
		{[]string{"ps", "--cacert", "ca.crt"}, nil, "missing --cert (CTL_CERT), --key (CTL_KEY)"},
		{[]string{"heartbeat", "--watch", "0s"}, nil, "invalid --watch"},
		{[]string{"certs", "ca"}, nil, "--out DIR is required"},
		{[]string{"heartbeat"}, map[string]string{"CTL_HOST": "a b"}, `invalid --host "a b"`},
		{[]string{"certs", "inspect"}, nil, "expected at least one FILE"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, r := runApp(t, tt.env, tt.args...)
			if r.code != exitUsage {
				t.Fatalf("exit %d, want 2; stderr %q", r.code, r.stderr)
			}
			if r.stdout != "" || strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "ctl: ") || !strings.Contains(r.stderr, "(hint: ") {
				t.Errorf("want one hinted line on stderr: stdout %q stderr %q", r.stdout, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr %q lacks %q", r.stderr, tt.want)
			}
		})
	}
}

func TestHelpGoesToStdout(t *testing.T) {
	_, r := runApp(t, nil, "--help")
	if r.code != 0 || r.stderr != "" || !strings.Contains(r.stdout, "Exit codes:\n  0  success") || !strings.Contains(r.stdout, "CTL_HOST") {
		t.Errorf("exit %d stderr %q stdout:\n%s", r.code, r.stderr, r.stdout)
	}
	_, r = runApp(t, nil, "ps", "watch", "--help")
	for _, f := range []string{"--name", "--user", "--pid", "--ppid", "--fields", "--existing", "--host"} {
		if !strings.Contains(r.stdout, f) {
			t.Errorf("ps watch --help lacks %s", f)
		}
	}
}

func TestCertsIgnoreABadHost(t *testing.T) {
	p := newTestPKI(t)
	if _, r := runApp(t, map[string]string{"CTL_HOST": "not a host"}, "certs", "inspect", p.CACert); r.code != 0 {
		t.Errorf("exit %d: %s", r.code, r.stderr)
	}
}

func TestAgentRejectedArgumentsIsUsage(t *testing.T) {
	p := newTestPKI(t)
	addr := startAgent(t, p)
	// 1024 PIDs at most: the agent, not ctl, enforces it.
	pids := strings.TrimSuffix(strings.Repeat("1,", 1100), ",")
	_, r := runApp(t, nil, append(p.tlsArgs(), "--host", addr, "ps", "--pid", pids)...)
	if r.code != exitUsage || !strings.HasPrefix(r.stderr, "ctl: list processes: invalid argument: ") || !strings.HasSuffix(r.stderr, "(hint: see `ctl ps --help`)\n") {
		t.Errorf("exit %d stderr %q", r.code, r.stderr)
	}
}
