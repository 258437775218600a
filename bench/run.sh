#!/usr/bin/env bash
# Runs riprap's side-by-side benchmarks and summarises them.
#
#   bench/run.sh                     # 6 runs of every benchmark, 500ms each
#   COUNT=10 BENCHTIME=1s bench/run.sh
#   BENCH='Breaker' bench/run.sh     # a subset (a -bench regexp)
#   CPU=1,2,4,8 bench/run.sh         # at several GOMAXPROCS (go test -cpu)
#   INTERLEAVE=1 bench/run.sh        # COUNT rounds of one run of each benchmark
#   BEFORE=/tmp/old/bench bench/run.sh   # also an older bench dir, interleaved
#
# Writes the raw `go test -bench` output to $OUT (default
# bench/results/raw-<UTC time>.txt), prints benchstat's table with one
# column per library, then the medians and the ratio riprap / library.
#
# `go test -count N` runs each benchmark N times in a row, so a burst of
# load from elsewhere lands on one library's rows only. INTERLEAVE=1 builds
# the test binary once and runs it COUNT times with -count 1, so every
# round measures every library; on a shared machine that is the fairer
# comparison. BEFORE (implies INTERLEAVE) names the bench directory of an
# older checkout (a git worktree); each round runs its binary, then this
# one, its output going to $OUT with -before before .txt, and benchstat
# compares the two at the end.
set -euo pipefail

COUNT="${COUNT:-6}"
BENCHTIME="${BENCHTIME:-500ms}"
BENCH="${BENCH:-.}"
CPU="${CPU:-$(nproc)}"
INTERLEAVE="${INTERLEAVE:-}"
BEFORE="${BEFORE:-}"
# A pseudo-version: golang.org/x/perf has no tagged release.
BENCHSTAT_VERSION="${BENCHSTAT_VERSION:-v0.0.0-20260908200009-22c9c6c9d4da}"

cd "$(dirname "$0")"
if (( COUNT < 6 )); then
	echo "run.sh: COUNT must be at least 6 for benchstat's confidence intervals, got $COUNT" >&2
	exit 2
fi
if [[ -n "$BEFORE" && ! -f "$BEFORE/go.mod" ]]; then
	echo "run.sh: BEFORE must be a bench module directory, got $BEFORE" >&2
	exit 2
fi
mkdir -p results
OUT="${OUT:-results/raw-$(date -u +%Y%m%dT%H%M%SZ).txt}"
OUT_BEFORE="${OUT%.txt}-before.txt"

GOFLAGS= go install "golang.org/x/perf/cmd/benchstat@${BENCHSTAT_VERSION}"
BENCHSTAT="$(go env GOPATH)/bin/benchstat"

echo "# $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(go version)" >&2
echo "# commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ../resilience || echo ' (with uncommitted changes)')" >&2
echo "# load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
if [[ -z "$INTERLEAVE$BEFORE" ]]; then
	echo "# go test -run '^\$' -bench '$BENCH' -benchmem -count $COUNT -benchtime $BENCHTIME -cpu $CPU . > $OUT" >&2
	go test -run '^$' -bench "$BENCH" -benchmem -count "$COUNT" -benchtime "$BENCHTIME" -cpu "$CPU" . | tee "$OUT" >&2
else
	tmp="$(mktemp -d)"
	trap 'rm -rf "$tmp"' EXIT
	go test -c -o "$tmp/after.test" .
	if [[ -n "$BEFORE" ]]; then
		(cd "$BEFORE" && echo "# before: $BEFORE at $(git rev-parse --short HEAD)" >&2 && go test -c -o "$tmp/before.test" .)
		: >"$OUT_BEFORE"
	fi
	: >"$OUT"
	args=(-test.run '^$' -test.bench "$BENCH" -test.benchmem -test.count 1 -test.benchtime "$BENCHTIME" -test.cpu "$CPU")
	echo "# $COUNT rounds of: <bench>.test ${args[*]}" >&2
	for ((i = 1; i <= COUNT; i++)); do
		echo "# round $i, load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
		if [[ -n "$BEFORE" ]]; then
			(cd "$BEFORE" && "$tmp/before.test" "${args[@]}") | tee -a "$OUT_BEFORE" >&2
		fi
		"$tmp/after.test" "${args[@]}" | tee -a "$OUT" >&2
	done
fi
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

echo
"$BENCHSTAT" -col /lib "$OUT"
echo
go run ./cmd/ratios "$OUT"
if [[ -n "$BEFORE" ]]; then
	echo
	echo "# before ($OUT_BEFORE) vs after ($OUT)"
	"$BENCHSTAT" before="$OUT_BEFORE" after="$OUT"
fi
