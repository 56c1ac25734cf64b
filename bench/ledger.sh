#!/usr/bin/env bash
# Ledger benchmark: durable appends (single and batched), verify() of an N-entry store,
# inclusion-proof size and verification time, and the store's size on disk.
#
#   bash bench/ledger.sh            # N = 1,000,000 entries (a few minutes or more)
#   bash bench/ledger.sh 50000      # a quick run
#
# It runs `cargo bench -p evident-store --bench ledger` (the bench profile: release) and passes
# N on as EVIDENT_BENCH_ENTRIES. The other EVIDENT_BENCH_* variables (batch size, blob share,
# time limit for verify(), …) are passed through; see crates/evident-store/benches/ledger.rs.
#
# Environment:
#   BENCH_DIR   where the stores are made and results.txt is written   (default: bench/out)
#               (the stores live in a temporary directory under BENCH_DIR/ledger and are
#               removed at the end unless EVIDENT_BENCH_KEEP=1; use a real disk, not tmpfs,
#               or the fsyncs cost nothing)
#
# See bench/README.md.

set -euo pipefail

die() { printf 'bench: error: %s\n' "$*" >&2; exit 2; }

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd -- "$HERE/.." && pwd)
cd "$ROOT"

if [[ $# -gt 1 ]]; then
    die "usage: bash bench/ledger.sh [N]"
fi
if [[ $# -eq 1 ]]; then
    [[ "$1" =~ ^[1-9][0-9_,]*$ ]] || die "N must be a positive whole number (got '$1')"
    export EVIDENT_BENCH_ENTRIES="$1"
fi
command -v cargo >/dev/null || die "cargo is required"

BENCH_DIR=${BENCH_DIR:-bench/out}
mkdir -p "$BENCH_DIR/ledger"
BENCH_DIR=$(cd -- "$BENCH_DIR" && pwd)
export EVIDENT_BENCH_DIR="$BENCH_DIR/ledger"

if command -v flock >/dev/null; then
    exec 9>"$BENCH_DIR/ledger/.lock"
    flock -n 9 || die "another bench/ledger.sh is running on $BENCH_DIR"
fi
if [[ "$(stat -f -c %T "$EVIDENT_BENCH_DIR" 2>/dev/null || true)" == tmpfs ]]; then
    printf 'bench: warning: %s is on tmpfs: fsync is free there, so the append figures are not durable ones\n' \
        "$EVIDENT_BENCH_DIR" >&2
fi

RESULTS="$BENCH_DIR/ledger-results.txt"
printf '==> cargo bench --locked -p evident-store --bench ledger (N = %s)\n' \
    "${EVIDENT_BENCH_ENTRIES:-1000000}" >&2
cargo bench --locked -p evident-store --bench ledger | tee "$RESULTS"
printf '==> figures written to %s\n' "$RESULTS" >&2
