package main

import (
	"net"
	"strings"
	"testing"
)

func TestHTTPListenFromFileEnvAndFlag(t *testing.T) {
	t.Setenv("CTLD_STATE_DIR", "")
	t.Setenv("CTLD_HTTP_LISTEN", "")
	file := writeConfig(t, "http_listen: 127.0.0.1:1\n")
	for _, tc := range []struct {
		name, env string
		args      []string
		want      string
	}{
		{name: "off by default", args: nil, want: ""},
		{name: "file", args: []string{"--config", file}, want: "127.0.0.1:1"},
		{name: "env over file", env: "127.0.0.1:2", args: []string{"--config", file}, want: "127.0.0.1:2"},
		{name: "flag over env", env: "127.0.0.1:2", args: []string{"--config", file, "--http-listen", "127.0.0.1:3"}, want: "127.0.0.1:3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("CTLD_HTTP_LISTEN", tc.env)
			t.Setenv("CTLD_CONFIG", writeConfig(t, ""))
			c, err := load(t, tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			if c.HTTPListen != tc.want {
				t.Fatalf("http_listen %q, want %q", c.HTTPListen, tc.want)
			}
		})
	}
}

func TestListenHTTP(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = busy.Close() }()
	for _, tc := range []struct {
		name    string
		cfg     Config
		wantLis bool
		wantErr string
	}{
		{name: "off", cfg: Config{}},
		{name: "loopback", cfg: Config{HTTPListen: "127.0.0.1:0"}, wantLis: true},
		{name: "insecure on loopback", cfg: Config{Insecure: true, HTTPListen: "127.0.0.1:0"}, wantLis: true},
		{name: "insecure on every interface", cfg: Config{Insecure: true, HTTPListen: ":0"}, wantErr: "only binds to loopback"},
		{name: "busy port", cfg: Config{HTTPListen: busy.Addr().String()}, wantErr: "--http-listen"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lis, err := (&daemon{cfg: tc.cfg}).listenHTTP()
			if lis != nil {
				defer func() { _ = lis.Close() }()
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || (lis != nil) != tc.wantLis {
				t.Fatalf("listener %v, error %v; want a listener: %v", lis, err, tc.wantLis)
			}
		})
	}
}
