package main

// systemdUnit replaces kardianos/service's default unit, which waits
// RestartSec=120 after a crash and gives up after a burst of restarts: an
// agent that stays down is unreachable until someone logs in to the host.
// The syntax is kardianos/service's template engine (v1.3).
const systemdUnit = `[Unit]
Description={{Description}}
Documentation=https://github.com/remotectl/remotectl
ConditionFileIsExecutable={{Path | cmdEscape}}
After=network.target
StartLimitIntervalSec=0

[Service]
ExecStart={{Path | cmdEscape}}{{range Arguments}} {{. | cmd}}{{end}}
Restart=always
RestartSec=5
# ctld drains streams for shutdown_timeout (5 s by default) on SIGTERM.
TimeoutStopSec=30
KillMode=mixed
# One descriptor per client connection.
LimitNOFILE=65536

[Install]
WantedBy=multi-user.target
`
