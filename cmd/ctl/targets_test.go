package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCompressHosts(t *testing.T) {
	tests := []struct {
		in   []string
		want string
	}{
		{[]string{"web1", "web2", "web3"}, "web[1-3]"},
		{[]string{"web3", "db1", "web1", "web2", "web5"}, "db1,web[1-3,5]"},
		{[]string{"n01", "n02", "n10"}, "n[01-02,10]"},
		{[]string{"127.0.0.1:7443", "alpha"}, "127.0.0.1:7443,alpha"},
	}
	for _, tt := range tests {
		if got := compressHosts(tt.in); got != tt.want {
			t.Errorf("compressHosts(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestTargets resolves --host lists, repeats, inventory names, globs and
// selectors; one plain --host keeps the single-host mode.
func TestTargets(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	p := newTestPKI(t)
	inv := `current-context: lab
contexts:
  - name: lab
    cacert: ` + p.CACert + `
    cert: ` + p.ClientCert + `
    key: ` + p.ClientKey + `
    hosts:
      - {name: web1, address: "10.0.0.1", labels: {role: web}, groups: [eu]}
      - {name: web2, address: "10.0.0.2:9000", labels: {role: web}, groups: [us]}
      - {name: db1, address: "10.0.0.3", labels: {role: db}, groups: [eu]}
`
	if err := os.WriteFile(cfg, []byte(inv), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		args  []string
		multi bool
		want  string // names,comma separated
	}{
		{"default", nil, false, "localhost:7443"},
		{"one address", []string{"--host", "a:1"}, false, "a:1"},
		{"comma list", []string{"--host", "a:1,b:2"}, true, "a:1,b:2"},
		{"repeated", []string{"--host", "a:1", "--host", "b:2", "--host", "a:1"}, true, "a:1,b:2"},
		{"inventory name", []string{"--host", "web2"}, false, "web2"},
		{"glob", []string{"--host", "web*"}, true, "web1,web2"},
		{"label selector", []string{"-l", "role=web"}, true, "web1,web2"},
		{"group", []string{"-g", "eu"}, true, "web1,db1"},
		{"group and label", []string{"-g", "eu", "-l", "role=db"}, true, "db1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, r := runApp(t, map[string]string{"CTL_CONFIG": cfg}, append(tt.args, "certs", "inspect", p.CACert)...)
			if r.code != 0 || a.hostErr != nil {
				t.Fatalf("exit %d %v: %s", r.code, a.hostErr, r.stderr)
			}
			var names []string
			for _, h := range a.hosts {
				names = append(names, h.Name)
			}
			if strings.Join(names, ",") != tt.want || a.multiHost != tt.multi {
				t.Errorf("hosts %v multi %v; want %s multi %v", names, a.multiHost, tt.want, tt.multi)
			}
			if a.g.cert != p.ClientCert {
				t.Errorf("the context's credentials were not applied: %q", a.g.cert)
			}
		})
	}
	a, _ := runApp(t, map[string]string{"CTL_CONFIG": cfg}, "--host", "web2", "certs", "inspect", p.CACert)
	if a.g.host != "10.0.0.2:9000" {
		t.Errorf("an inventory name dials its address: %q", a.g.host)
	}
	_, r := runApp(t, map[string]string{"CTL_CONFIG": cfg}, "-l", "role=none", "heartbeat")
	if r.code != exitUsage || !strings.Contains(r.stderr, "no host matches") {
		t.Errorf("empty selection: exit %d %q", r.code, r.stderr)
	}
}
