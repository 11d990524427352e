package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/remotectl/remotectl/server/logs"
)

// LogsConfig is what the agent serves through LogService.
type LogsConfig struct {
	// Allow lists the sources served: absolute file globs ("**" crosses
	// directories), "journal", "journal:UNIT-GLOB", "eventlog:CHANNEL-GLOB".
	// Empty means logs.DefaultAllow() (/var/log/** and the journal; on
	// Windows Application, System, Setup). /proc, /sys, /dev and key files
	// are refused whatever it says.
	Allow []string `yaml:"allow"`
	// JournalDirectory makes journalctl read that journal directory (a
	// container's or namespace's /run/log/journal); empty is the host's.
	JournalDirectory string `yaml:"journal_directory"`
	// MaxLineBytes cuts longer lines (flagged truncated); LinesPerSecond
	// throttles each follow stream (zero: the defaults).
	MaxLineBytes   int `yaml:"max_line_bytes"`
	LinesPerSecond int `yaml:"lines_per_second"`
}

const logsAllowEnv = "CTLD_LOGS_ALLOW"

// addLogsFlags registers the repeatable --logs-allow and --logs-journal-dir.
func addLogsFlags(fs *pflag.FlagSet, c *Config) {
	fs.StringArrayVar(&c.Logs.Allow, "logs-allow", nil, "serve logs matching this `GLOB` (repeatable; journal, journal:UNIT, eventlog:CHANNEL too; default "+
		strings.Join(logs.DefaultAllow(), ", ")+") (env "+logsAllowEnv+", comma-separated)")
	fs.StringVar(&c.Logs.JournalDirectory, "logs-journal-dir", "", "read the journal in this `DIR` instead of the host's (env CTLD_LOGS_JOURNAL_DIR)")
}

// applyLogs layers the environment and the flags over the file's values.
func applyLogs(c *Config, flagged *Config, fs *pflag.FlagSet) {
	if v := os.Getenv(logsAllowEnv); v != "" {
		c.Logs.Allow = strings.Split(v, ",")
	}
	if v := os.Getenv("CTLD_LOGS_JOURNAL_DIR"); v != "" {
		c.Logs.JournalDirectory = v
	}
	if fs.Changed("logs-allow") {
		c.Logs.Allow = flagged.Logs.Allow
	}
	if fs.Changed("logs-journal-dir") {
		c.Logs.JournalDirectory = flagged.Logs.JournalDirectory
	}
}

func (l LogsConfig) validate() error {
	if l.MaxLineBytes < 0 || l.LinesPerSecond < 0 {
		return fmt.Errorf("logs: max_line_bytes and lines_per_second must not be negative")
	}
	_, err := l.reader()
	return err
}

func (l LogsConfig) reader() (*logs.Logs, error) {
	allow := l.Allow
	if len(allow) == 0 {
		allow = nil // the default list
	}
	return logs.New(logs.Config{Allow: allow, JournalDir: l.JournalDirectory,
		Limits: logs.Limits{MaxLineBytes: l.MaxLineBytes, LinesPerSecond: l.LinesPerSecond}})
}
