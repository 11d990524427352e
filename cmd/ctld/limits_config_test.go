package main

import (
	"strings"
	"testing"
)

// TestStreamsPerIdentityFromFileEnvFlag: the per-identity stream cap is a
// flag and an environment variable, not YAML only (issue 13, finding 17).
func TestStreamsPerIdentityFromFileEnvFlag(t *testing.T) {
	file := writeConfig(t, "limits:\n  streams_per_identity: 5\n")
	c, err := load(t, "--config", file)
	if err != nil || c.Limits.StreamsPerIdentity != 5 {
		t.Fatalf("file: %v %d", err, c.Limits.StreamsPerIdentity)
	}
	t.Setenv("CTLD_STREAMS_PER_IDENTITY", "7")
	if c, err = load(t, "--config", file); err != nil || c.Limits.StreamsPerIdentity != 7 {
		t.Fatalf("env: %v %d", err, c.Limits.StreamsPerIdentity)
	}
	if c, err = load(t, "--config", file, "--streams-per-identity", "64"); err != nil || c.Limits.StreamsPerIdentity != 64 {
		t.Fatalf("flag: %v %d", err, c.Limits.StreamsPerIdentity)
	}
}

// TestMetricsLoopbackByDefault: the unauthenticated /metrics endpoint
// binds loopback unless the config says otherwise (finding 15).
func TestMetricsLoopbackByDefault(t *testing.T) {
	if _, err := load(t, "--config", writeConfig(t, "metrics_listen: 0.0.0.0:9100\n")); err == nil || !strings.Contains(err.Error(), "metrics_allow_remote") {
		t.Fatalf("metrics on all interfaces: %v, want a refusal naming metrics_allow_remote", err)
	}
	if _, err := load(t, "--config", writeConfig(t, "metrics_listen: 127.0.0.1:9100\n")); err != nil {
		t.Fatalf("loopback metrics: %v", err)
	}
	if _, err := load(t, "--config", writeConfig(t, "metrics_listen: \":9100\"\nmetrics_allow_remote: true\n")); err != nil {
		t.Fatalf("explicitly remote metrics: %v", err)
	}
}
