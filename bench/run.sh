#!/usr/bin/env bash
# Runs riprap's side-by-side benchmarks and summarises them.
#
#   bench/run.sh                     # 6 runs of every benchmark, 500ms each
#   COUNT=10 BENCHTIME=1s bench/run.sh
#   BENCH='Breaker' bench/run.sh     # a subset (a -bench regexp)
#   CPU=1,2,4,8 bench/run.sh         # at several GOMAXPROCS (go test -cpu)
#
# Writes the raw `go test -bench` output to $OUT (default
# bench/results/raw-<UTC time>.txt), prints benchstat's table with one
# column per library, then the medians and the ratio riprap / library.
set -euo pipefail

COUNT="${COUNT:-6}"
BENCHTIME="${BENCHTIME:-500ms}"
BENCH="${BENCH:-.}"
CPU="${CPU:-$(nproc)}"
# A pseudo-version: golang.org/x/perf has no tagged release.
BENCHSTAT_VERSION="${BENCHSTAT_VERSION:-v0.0.0-20260908200009-22c9c6c9d4da}"

cd "$(dirname "$0")"
if (( COUNT < 6 )); then
	echo "run.sh: COUNT must be at least 6 for benchstat's confidence intervals, got $COUNT" >&2
	exit 2
fi
mkdir -p results
OUT="${OUT:-results/raw-$(date -u +%Y%m%dT%H%M%SZ).txt}"

GOFLAGS= go install "golang.org/x/perf/cmd/benchstat@${BENCHSTAT_VERSION}"
BENCHSTAT="$(go env GOPATH)/bin/benchstat"

echo "# $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(go version)" >&2
echo "# load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "# go test -run '^\$' -bench '$BENCH' -benchmem -count $COUNT -benchtime $BENCHTIME -cpu $CPU . > $OUT" >&2
go test -run '^$' -bench "$BENCH" -benchmem -count "$COUNT" -benchtime "$BENCHTIME" -cpu "$CPU" . | tee "$OUT" >&2
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

echo
"$BENCHSTAT" -col /lib "$OUT"
echo
go run ./cmd/ratios "$OUT"
