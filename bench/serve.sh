#!/usr/bin/env bash
# Server ingest benchmark: signed GitHub deliveries per second through `evident serve`'s server
# (in-process, the real writer with fsync, the embedded store on disk), and their latency
# p50/p90/p99/max as the clients see it, over N keep-alive connections.
#
#   bash bench/serve.sh              # 50,000 deliveries after a 2,000-delivery warm-up
#   bash bench/serve.sh 20000        # a shorter run
#
# It runs `cargo bench -p evident-server --bench ingest` (the bench profile: release) and passes
# the count on as EVIDENT_BENCH_DELIVERIES. See crates/evident-server/benches/ingest.rs.
#
# Environment:
#   EVIDENT_BENCH_DELIVERIES   measured deliveries                       (default 50000)
#   EVIDENT_BENCH_CONNECTIONS  concurrent keep-alive connections         (default 32)
#   EVIDENT_BENCH_WARMUP       deliveries before measuring               (default 2000)
#   EVIDENT_BENCH_KEEP         1 keeps the store                         (default 0)
#   EVIDENT_BENCH_SAME_BODY    1 sends one body every time (one shared content blob)
#   EVIDENT_BENCH_DATABASE_URL postgres://… puts the index in PostgreSQL (a fresh schema, dropped at the end)
#   BENCH_DIR   the store is made in a temporary directory under BENCH_DIR/serve, and the
#               figures are written to BENCH_DIR/serve-results.txt     (default: bench/out)
#               (use a real disk, not tmpfs, or the fsyncs cost nothing)
#
# The server logs a line per stored delivery on standard error; the script leaves those out.
#
# See bench/README.md.

set -euo pipefail

die() { printf 'bench: error: %s\n' "$*" >&2; exit 2; }

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd -- "$HERE/.." && pwd)
cd "$ROOT"

if [[ $# -gt 1 ]]; then
    die "usage: bash bench/serve.sh [DELIVERIES]"
fi
if [[ $# -eq 1 ]]; then
    [[ "$1" =~ ^[1-9][0-9_,]*$ ]] || die "DELIVERIES must be a positive whole number (got '$1')"
    export EVIDENT_BENCH_DELIVERIES="$1"
fi
command -v cargo >/dev/null || die "cargo is required"

BENCH_DIR=${BENCH_DIR:-bench/out}
mkdir -p "$BENCH_DIR/serve"
BENCH_DIR=$(cd -- "$BENCH_DIR" && pwd)
export BENCH_DIR

if command -v flock >/dev/null; then
    exec 9>"$BENCH_DIR/serve/.lock"
    flock -n 9 || die "another bench/serve.sh is running on $BENCH_DIR"
fi
if [[ "$(stat -f -c %T "$BENCH_DIR/serve" 2>/dev/null || true)" == tmpfs ]]; then
    printf 'bench: warning: %s is on tmpfs: fsync is free there, so the figures are not durable ones\n' \
        "$BENCH_DIR/serve" >&2
fi

RESULTS="$BENCH_DIR/serve-results.txt"
printf '==> cargo bench --locked -p evident-server --bench ingest (%s deliveries, %s connections)\n' \
    "${EVIDENT_BENCH_DELIVERIES:-50000}" "${EVIDENT_BENCH_CONNECTIONS:-32}" >&2
cargo bench --locked -p evident-server --bench ingest \
    2> >(grep --line-buffered -v '^evident serve: .* delivery .* stored as entry ' >&2) |
    tee "$RESULTS"
printf '==> figures written to %s\n' "$RESULTS" >&2
