#!/usr/bin/env bash
# Run every fuzz target for FUZZTIME each (default 20s). A crash fails the
# script and leaves the reproducer under the package's testdata/fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-20s}
targets=(
  "./server/process FuzzFilterValidate"
  "./server/service FuzzValidateName"
  "./server/service FuzzFilterValidate"
  "./server/authz FuzzDecide"
  "./internal/pki FuzzParseSerial"
)
for t in "${targets[@]}"; do
  set -- $t
  echo "=== fuzz $1 $2 for $FUZZTIME"
  go test -run '^$' -fuzz "^$2\$" -fuzztime "$FUZZTIME" "$1"
done
