# remotectl build. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

GO       ?= go
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
# proto-check compares the API against this git ref for breaking changes.
BREAKING_AGAINST      ?= .git\#branch=main

CROSS := windows/amd64 darwin/arm64 linux/amd64 linux/arm64

.PHONY: help build test test-unit lint proto proto-check demo run cross bench systemd-up systemd-down clean

help: ## list targets
	@awk 'BEGIN{FS=":.*## "} /^[a-z-]+:.*## /{printf "  %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## build ctl and ctld into bin/
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/ ./cmd/ctl ./cmd/ctld

test: ## run every test (brings up the systemd harness when root)
	scripts/test.sh

test-unit: ## run the Go tests without the systemd harness
	$(GO) test -count=1 ./...

lint: $(GOLANGCI_LINT) $(BUF) ## golangci-lint (linux and windows) and buf lint
	$(GOLANGCI_LINT) run ./...
	GOOS=windows $(GOLANGCI_LINT) run ./...
	GOOS=darwin $(GOLANGCI_LINT) run ./...
	$(BUF) lint

proto: $(BUF) ## regenerate Go code from proto/ (pinned local plugins)
	$(BUF) generate

proto-check: $(BUF) ## lint protos, fail on generated-code drift and on breaking changes
	$(BUF) lint
	@tmp=$$(mktemp -d); cp -r proto "$$tmp/"; $(BUF) generate; \
	if ! diff -r "$$tmp/proto" proto >/dev/null; then \
	  diff -r "$$tmp/proto" proto | head -20; rm -rf "$$tmp"; \
	  echo "generated code is out of date: run 'make proto' and commit"; exit 1; fi; rm -rf "$$tmp"
	@if git rev-parse -q --verify main >/dev/null && git cat-file -e main:buf.yaml 2>/dev/null; then \
	  $(BUF) breaking --against '$(BREAKING_AGAINST)' && echo "buf breaking: no breaking changes against main"; \
	else echo "buf breaking: main has no API yet, nothing to compare"; fi

demo: build ## start ctld on defaults, drive it with ctl, stop it
	scripts/demo.sh

run: build ## run ctld in the foreground on defaults
	$(BIN)/ctld run

cross: ## build ctl and ctld for every release platform
	@set -e; for p in $(CROSS); do os=$${p%/*}; arch=$${p#*/}; ext=; [ $$os = windows ] && ext=.exe; \
	  for c in ctl ctld; do \
	    CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/$$os-$$arch/$$c$$ext ./cmd/$$c; \
	  done; echo "built $(BIN)/$$os-$$arch"; done

bench: ## ListProcesses over loopback mTLS vs ps side by side; Heartbeat throughput
	$(GO) test -run '^$$' -bench 'BenchmarkListProcessesVsPS' -benchtime 20x -count 3 ./test/e2e/
	$(GO) test -run '^$$' -bench 'BenchmarkHeartbeat' -benchtime 2s -count 3 ./test/e2e/

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
