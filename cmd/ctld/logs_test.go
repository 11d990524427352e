package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func TestLogsConfig(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "ctld.yaml")
	if err := os.WriteFile(file, []byte("logs:\n  allow: [\"/srv/app/**\", \"journal:app-*\"]\n  lines_per_second: 1000\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		args    []string
		env     string
		want    string
		wantErr string
	}{
		{"file", []string{"--config", file}, "", "/srv/app/**,journal:app-*", ""},
		{"env over file", []string{"--config", file}, "/a/**,journal", "/a/**,journal", ""},
		{"flags over env", []string{"--config", file, "--logs-allow", "/b/*.log", "--logs-allow", "eventlog:System"}, "/a/**", "/b/*.log,eventlog:System", ""},
		{"relative glob", []string{"--config", file, "--logs-allow", "var/log/*"}, "", "", "want an absolute file glob"},
		{"bad glob", []string{"--config", file, "--logs-allow", "/var/log/["}, "", "", "bad glob"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.env != "" {
				t.Setenv(logsAllowEnv, c.env)
			}
			fs := pflag.NewFlagSet("ctld", pflag.ContinueOnError)
			fv := addConfigFlags(fs)
			if err := fs.Parse(append(c.args, "--state-dir", dir)); err != nil {
				t.Fatal(err)
			}
			cfg, err := fv.load()
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(cfg.Logs.Allow, ","); got != c.want {
				t.Fatalf("allow = %s, want %s", got, c.want)
			}
		})
	}
}
