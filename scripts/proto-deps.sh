#!/usr/bin/env bash
# Installs the code generators buf.gen.yaml runs besides the Go ones (which
# `go run` fetches itself): Debian's protoc and grpc_python_plugin for the
# Python client, and the npm-pinned protoc-gen-es for the TypeScript client.
# Idempotent and quiet when everything is present.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/protoc ] || [ ! -x /usr/bin/grpc_python_plugin ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "proto-deps: need /usr/bin/protoc and /usr/bin/grpc_python_plugin: sudo apt-get install protobuf-compiler protobuf-compiler-grpc" >&2
    exit 1
  fi
  echo "proto-deps: apt-get install protobuf-compiler protobuf-compiler-grpc"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends protobuf-compiler protobuf-compiler-grpc >/dev/null 2>&1 ||
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends protobuf-compiler protobuf-compiler-grpc >/dev/null; }
fi

# npm ci only when the lockfile changed since the last install.
stamp=clients/ts/node_modules/.package-lock.json
if [ ! -x clients/ts/node_modules/.bin/protoc-gen-es ] || [ clients/ts/package-lock.json -nt "$stamp" ]; then
  command -v npm >/dev/null || { echo "proto-deps: npm is required (Node.js >= 20)" >&2; exit 1; }
  echo "proto-deps: npm ci in clients/ts"
  npm ci --prefix clients/ts --prefer-offline --no-audit --no-fund --loglevel=error
fi
