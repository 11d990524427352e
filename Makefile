# remotectl build. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

GO       ?= go
# go.mod's toolchain line names the patched Go release; let the go command
# fetch it (through the module proxy) when the installed one is older.
export GOTOOLCHAIN ?= auto
BIN      := bin
TOOLS    := .tools
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT   ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS  := -s -w -X github.com/remotectl/remotectl/internal/version.Version=$(VERSION) \
            -X github.com/remotectl/remotectl/internal/version.Commit=$(COMMIT)

# Pinned tool versions; tools are built from the Go module proxy into $(TOOLS).
BUF_VERSION           := v1.75.0
GOLANGCI_LINT_VERSION := v2.15.0
BUF                   := $(TOOLS)/buf-$(BUF_VERSION)
GOLANGCI_LINT         := $(TOOLS)/golangci-lint-$(GOLANGCI_LINT_VERSION)
GRPCURL_VERSION       := v1.9.3
HEALTH_PROBE_VERSION  := v0.4.40
GRPCURL               := $(TOOLS)/grpcurl-$(GRPCURL_VERSION)
HEALTH_PROBE          := $(TOOLS)/grpc-health-probe-$(HEALTH_PROBE_VERSION)
GOVULNCHECK_VERSION   := v1.9.0
# The vulnerability database is the golang.org/x/vulndb module, pinned so CI is
# reproducible; `make vulncheck VULNDB_VERSION=latest` checks against today's.
VULNDB_VERSION        ?= v0.0.0-20261105234957-e22db6528018
# Everything `buf generate` writes; proto-check diffs all of it.
GEN_DIRS              := proto clients/python/gen clients/ts/src/gen server/httpapi/openapi
# proto-check compares the API against this git ref for breaking changes.
BREAKING_AGAINST      ?= .git\#branch=main

CROSS := windows/amd64 darwin/arm64 linux/amd64 linux/arm64

.PHONY: help build test test-unit test-windows test-clients lint proto proto-deps proto-check demo run cross bench bench-watch fuzz systemd-up systemd-down clean bench-ctl

help: ## list targets
	@awk 'BEGIN{FS=":.*## "} /^[a-z-]+:.*## /{printf "  %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## build ctl and ctld into bin/
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/ ./cmd/ctl ./cmd/ctld

test: ## run every test (brings up the systemd harness when root)
	scripts/test.sh

test-unit: ## run the Go tests without the systemd harness
	$(GO) test -count=1 ./...

test-windows: ## Windows tests under Wine (real SCM) and ctld.exe driven by ctl (installs wine64, root)
	scripts/test-windows.sh

test-clients: $(GRPCURL) $(HEALTH_PROBE) ## Python and Node clients, grpcurl, grpc-health-probe against a real ctld
	GO=$(GO) GRPCURL=$(CURDIR)/$(GRPCURL) HEALTH_PROBE=$(CURDIR)/$(HEALTH_PROBE) scripts/test-clients.sh

.PHONY: test-http bench-http
test-http: ## the JSON-over-HTTPS API driven with curl against a real ctld and systemd (docs/http.md)
	GO=$(GO) scripts/test-http.sh

lint: $(GOLANGCI_LINT) $(BUF) ## golangci-lint (linux and windows) and buf lint
	$(GOLANGCI_LINT) run ./...
	GOOS=windows $(GOLANGCI_LINT) run ./...
	GOOS=darwin $(GOLANGCI_LINT) run ./...
	$(BUF) lint

proto: $(BUF) proto-deps ## regenerate the Go, Python and TypeScript code from proto/ (pinned local plugins)
	$(BUF) generate
	$(BUF) build -o internal/apidocs/remotectl.binpb

proto-deps: ## install the Python (apt) and TypeScript (npm ci) code generators
	scripts/proto-deps.sh

proto-check: $(BUF) proto-deps ## lint protos, fail on generated-code drift and on breaking changes
	$(BUF) lint
	@tmp=$$(mktemp -d); for d in $(GEN_DIRS); do mkdir -p "$$tmp/$$d"; cp -r $$d/. "$$tmp/$$d/"; done; $(BUF) generate; \
	drift=$$(for d in $(GEN_DIRS); do diff -r "$$tmp/$$d" $$d; done); \
	if [ -n "$$drift" ]; then \
	  echo "$$drift" | head -20; rm -rf "$$tmp"; \
	  echo "generated code is out of date: run 'make proto' and commit"; exit 1; fi; rm -rf "$$tmp"
	@if git rev-parse -q --verify main >/dev/null && git cat-file -e main:buf.yaml 2>/dev/null; then \
	  $(BUF) breaking --against '$(BREAKING_AGAINST)' && echo "buf breaking: no breaking changes against main"; \
	else echo "buf breaking: main has no API yet, nothing to compare"; fi

demo: build ## start ctld on defaults, drive it with ctl, stop it
	scripts/demo.sh

run: build ## run ctld in the foreground on defaults, listening on loopback only
	$(BIN)/ctld run --listen 127.0.0.1:7443

cross: ## build ctl and ctld for every release platform
	@set -e; for p in $(CROSS); do os=$${p%/*}; arch=$${p#*/}; ext=; [ $$os = windows ] && ext=.exe; \
	  for c in ctl ctld; do \
	    CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/$$os-$$arch/$$c$$ext ./cmd/$$c; \
	  done; echo "built $(BIN)/$$os-$$arch"; done

.PHONY: vulncheck
vulncheck: ## govulncheck (reachable vulnerabilities) against the x/vulndb module's database
	GO=$(GO) TOOLS=$(TOOLS) GOVULNCHECK_VERSION=$(GOVULNCHECK_VERSION) VULNDB_VERSION=$(VULNDB_VERSION) scripts/vulncheck.sh

fuzz: ## run every fuzz target for FUZZTIME each (default 500000x: a count, see scripts/fuzz.sh)
	scripts/fuzz.sh

bench: ## ListProcesses over loopback mTLS vs ps side by side; Heartbeat throughput
	$(GO) test -run '^$$' -bench 'BenchmarkListProcessesVsPS' -benchtime 20x -count 3 ./test/e2e/
	$(GO) test -run '^$$' -bench 'BenchmarkHeartbeat' -benchtime 2s -count 3 ./test/e2e/

bench-ctl: ## whole-process `ctl ps -o json` vs ps at ~1000 processes, alternating runs, median ratio (RUNS, PROCS; not in CI)
	GO=$(GO) scripts/bench-ctl.sh

bench-watch: ## watch engine figures (minutes; not in CI): latency, 1000 subscribers under churn, idle cost (IDLE=60s)
	set -o pipefail; REMOTECTL_BENCH_WATCH=1 REMOTECTL_BENCH_IDLE=$(or $(IDLE),60s) $(GO) test -count=1 -v -timeout 15m -run '^TestWatchBench' ./test/e2e/ | grep -E 'FIGURE|^(---|ok|FAIL)'

.PHONY: bench-fleet
bench-fleet: ## fleet figures (minutes; not in CI): heartbeat to 1000 agents, fleet watch 1000 agents 10% slowed (WATCH=5m), merged ps watch over 100
	set -o pipefail; REMOTECTL_FLEET_SCALE=1 REMOTECTL_FLEET_WATCH=$(or $(WATCH),5m) $(GO) test -count=1 -v -timeout 30m -run '^TestFleetScale' ./test/e2e/ | grep -E 'FIGURE|^(---|ok|FAIL)'

bench-logs: ## log follow figures (about 30 s; not in CI): throughput, append->client latency, idle cost
	REMOTECTL_LOGS_BENCH=1 $(GO) test -count=1 -run 'TestLogFollowFigures' -v ./server/

bench-http: ## Heartbeat throughput, 50 concurrent callers: HTTP/JSON (HTTP/1.1 and h2) vs gRPC in one run (target >= 0.5x)
	set -o pipefail; REMOTECTL_BENCH_HTTP=1 $(GO) test -count=1 -v -timeout 10m -run '^TestHTTPHeartbeatThroughput$$' ./test/e2e/ | grep -E 'round|FIGURE|^(---|ok|FAIL)'

.PHONY: bench-chain
bench-chain: ## Heartbeat, 50 concurrent callers over one mTLS connection: ctld's server chain vs a hello-world grpc-go server, alternating rounds (target >= 0.8x; not in CI)
	set -o pipefail; REMOTECTL_BENCH_CHAIN=1 $(GO) test -count=1 -v -timeout 10m -run '^TestHeartbeatChainThroughput$$' ./test/e2e/ | grep -E 'round|FIGURE|^(---|ok|FAIL)'

systemd-up: ## start the real systemd test harness (root)
	scripts/systemd-harness.sh up

systemd-down: ## stop the systemd test harness
	scripts/systemd-harness.sh down

clean: ## remove build output and tools
	rm -rf $(BIN) $(TOOLS)

$(BUF):
	@mkdir -p $(TOOLS)
	GOBIN=$(CURDIR)/$(TOOLS)/tmp $(GO) install github.com/bufbuild/buf/cmd/buf@$(BUF_VERSION)
	mv $(TOOLS)/tmp/buf $@

$(GOLANGCI_LINT):
	@mkdir -p $(TOOLS)
	GOBIN=$(CURDIR)/$(TOOLS)/tmp $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
	mv $(TOOLS)/tmp/golangci-lint $@

$(GRPCURL):
	@mkdir -p $(TOOLS)
	GOBIN=$(CURDIR)/$(TOOLS)/tmp $(GO) install github.com/fullstorydev/grpcurl/cmd/grpcurl@$(GRPCURL_VERSION)
	mv $(TOOLS)/tmp/grpcurl $@

# Built in a scratch module: `go install pkg@version` also asks the proxy for
# the module's version list (deprecation check), which the proxy here refuses.
$(HEALTH_PROBE):
	@rm -rf $(TOOLS)/hp-mod && mkdir -p $(TOOLS)/hp-mod
	cd $(TOOLS)/hp-mod && $(GO) mod init tools >/dev/null 2>&1 && \
	  $(GO) get github.com/grpc-ecosystem/grpc-health-probe@$(HEALTH_PROBE_VERSION) && \
	  $(GO) build -trimpath -o $(CURDIR)/$@ github.com/grpc-ecosystem/grpc-health-probe
	rm -rf $(TOOLS)/hp-mod
