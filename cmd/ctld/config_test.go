package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ctld.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func load(t *testing.T, args ...string) (Config, error) {
	t.Helper()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	fv := addConfigFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return fv.load()
}

func TestConfigPrecedenceFlagsEnvFile(t *testing.T) {
	t.Setenv("CTLD_STATE_DIR", "")
	file := writeConfig(t, "listen: 10.0.0.1:1\nstate_dir: /from/file\nlog:\n  level: warn\npoll_interval: 3s\n")

	c, err := load(t, "--config", file)
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "10.0.0.1:1" || c.StateDir != "/from/file" || c.Log.Level != "warn" || c.PollInterval != 3*time.Second {
		t.Fatalf("file values not applied: %+v", c)
	}
	if c.Log.Format != "auto" || c.ShutdownTimeout != 5*time.Second {
		t.Fatalf("defaults lost for keys the file does not set: %+v", c)
	}

	t.Setenv("CTLD_LISTEN", "127.0.0.1:2")
	t.Setenv("CTLD_LOG_LEVEL", "debug")
	c, err = load(t, "--config", file)
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:2" || c.Log.Level != "debug" || c.StateDir != "/from/file" {
		t.Fatalf("env must override the file: %+v", c)
	}

	c, err = load(t, "--config", file, "--listen", "127.0.0.1:3", "--poll-interval", "250ms")
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:3" || c.PollInterval != 250*time.Millisecond || c.Log.Level != "debug" {
		t.Fatalf("flags must override env and file: %+v", c)
	}
}

func TestConfigRejectsBadInput(t *testing.T) {
	cases := map[string]struct {
		file string
		args []string
		env  map[string]string
		want string
	}{
		"unknown key":           {file: "listne: :1\n", want: "field listne not found"},
		"bad yaml":              {file: "listen: [\n", want: "config"},
		"partial tls":           {file: "tls:\n  ca: /x/ca.crt\n", want: "give all of ca, cert and key"},
		"bad log format":        {args: []string{"--log-format", "xml"}, want: "log format"},
		"tiny poll interval":    {args: []string{"--poll-interval", "1ms"}, want: "poll interval"},
		"bad env duration":      {env: map[string]string{"CTLD_SHUTDOWN_TIMEOUT": "soon"}, want: "CTLD_SHUTDOWN_TIMEOUT"},
		"bad env bool":          {env: map[string]string{"CTLD_INSECURE": "maybe"}, want: "CTLD_INSECURE"},
		"missing explicit file": {args: []string{"--config", "/nonexistent/ctld.yaml"}, want: "no such file"},
		"zero gomaxprocs":       {args: []string{"--gomaxprocs", "0"}, want: "gomaxprocs 0"},
		"negative gomaxprocs":   {env: map[string]string{"CTLD_GOMAXPROCS": "-2"}, want: "gomaxprocs -2"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			args := tc.args
			if tc.file != "" {
				args = append(args, "--config", writeConfig(t, tc.file))
			}
			_, err := load(t, args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

func TestInsecureRefusesNonLoopbackListen(t *testing.T) {
	d := &daemon{cfg: Config{Insecure: true, Listen: ":7443"}}
	if _, _, err := d.tlsConfig(); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("insecure on all interfaces: err = %v", err)
	}
	d.cfg.Listen = "127.0.0.1:7443"
	if c, _, err := d.tlsConfig(); err != nil || c != nil {
		t.Fatalf("insecure on loopback: %v, %v", c, err)
	}
}

func TestFirstRunCreatesDevPKIAndReusesIt(t *testing.T) {
	dir := t.TempDir()
	d := &daemon{cfg: Config{Listen: "127.0.0.1:0", StateDir: dir}}
	c, dev, err := d.tlsConfig()
	if err != nil || c == nil || dev == nil {
		t.Fatalf("first run: %v", err)
	}
	for _, f := range []string{"ca.crt", "server.crt", "server.key", "client.crt", "client.key"} {
		st, err := os.Stat(filepath.Join(dir, "certs", f))
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(f, ".key") && st.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", f, st.Mode().Perm())
		}
	}
	before, _ := os.ReadFile(filepath.Join(dir, "certs", "server.crt"))
	if _, _, err := d.tlsConfig(); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "certs", "server.crt"))
	if string(before) != string(after) {
		t.Fatal("second start rewrote the server certificate")
	}
	if got := ctlHint("127.0.0.1:7443", *dev); !strings.Contains(got, "--host 127.0.0.1:7443") || !strings.Contains(got, dev.ClientKey) {
		t.Fatalf("ctl hint %q", got)
	}
	if got := ctlHint("[::]:7443", *dev); !strings.Contains(got, "--host localhost:7443") {
		t.Fatalf("ctl hint for all interfaces %q", got)
	}
}

// GOMAXPROCS defaults to one CPU, leaves Go's own GOMAXPROCS variable
// alone when it is set, and takes a count or -1 from the config.
func TestConfigGOMAXPROCS(t *testing.T) {
	for _, tc := range []struct {
		name  string
		goEnv string
		args  []string
		want  int
	}{
		{"default", "", nil, defaultGOMAXPROCS},
		{"Go's variable set", "4", nil, -1},
		{"flag", "4", []string{"--gomaxprocs", "3"}, 3},
		{"Go's choice", "", []string{"--gomaxprocs", "-1"}, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("GOMAXPROCS", tc.goEnv)
			c, err := load(t, tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			if c.GOMAXPROCS != tc.want {
				t.Errorf("GOMAXPROCS %d, want %d", c.GOMAXPROCS, tc.want)
			}
		})
	}
}
