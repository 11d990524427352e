#!/usr/bin/env bash
# Run every fuzz target for FUZZTIME each. A crash fails the script and
# leaves the reproducer under the package's testdata/fuzz/.
#
# The default is a count (500000 inputs, 10-30 s per target on the 2-core CI
# machine), not a duration: with a duration, Go's fuzz coordinator up to 1.26
# can report a spurious "context deadline exceeded" failure at the deadline
# (golang/go#75804, fixed in 1.27); CI hit it on FuzzValidateName with no
# crasher written. A count never arms that deadline.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-500000x}
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
