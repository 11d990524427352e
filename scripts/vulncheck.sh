#!/usr/bin/env bash
# govulncheck against an offline copy of the Go vulnerability database.
# The database comes from the golang.org/x/vulndb module through the Go
# module proxy (the only network here): its data/osv files are indexed with
# the module's own cmd/indexdb into the layout `govulncheck -db file://` reads.
# Usage: GOVULNCHECK_VERSION=v1.9.0 VULNDB_VERSION=<pseudo-version|latest> scripts/vulncheck.sh
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
tools=${TOOLS:-.tools}
gv=${GOVULNCHECK_VERSION:?}
dbv=${VULNDB_VERSION:?}
mkdir -p "$tools"
tools=$(cd "$tools" && pwd)

bin="$tools/govulncheck-$gv"
if [ ! -x "$bin" ]; then
  GOBIN="$tools/tmp" $GO install "golang.org/x/vuln/cmd/govulncheck@$gv"
  mv "$tools/tmp/govulncheck" "$bin"
fi

src=$(GOFLAGS=-mod=mod $GO mod download -json "golang.org/x/vulndb@$dbv" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -d "$src/data/osv" ] || { echo "vulncheck: golang.org/x/vulndb@$dbv has no data/osv" >&2; exit 1; }
db="$tools/vulndb-$(basename "$src")"
if [ ! -f "$db/index/db.json" ]; then
  rm -rf "$db.tmp"
  # indexdb's module needs a newer go than some images ship: let go fetch it.
  GOTOOLCHAIN=auto GOFLAGS= $GO run "golang.org/x/vulndb/cmd/indexdb@${src##*@}" -vulns "$src/data/osv" -out "$db.tmp"
  mv "$db.tmp" "$db"
fi
echo "vulncheck: $($GO version) with database golang.org/x/vulndb@${src##*@}"
"$bin" -db "file://$db" ./...
