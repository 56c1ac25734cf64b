#!/usr/bin/env bash
# Dependency-scanner benchmark: import of the shared OSV data, SBOM and scan of real-size
# lockfiles (a 1,600-package package-lock.json, a 1,100-crate Cargo.lock, a 600-package uv.lock,
# an 800-module go.mod + go.sum), end to end through the release binary (process start
# included). Each figure is the median of RUNS runs (default 7).
#
#   bash bench/deps.sh
#
# Environment: BENCH_DIR (default bench/out), RUNS, EVIDENT_SHARED_DATA (default ../shared/data).
set -euo pipefail

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd -- "$HERE/.." && pwd)
cd "$ROOT"
RUNS=${RUNS:-7}
OUT=${BENCH_DIR:-bench/out}/deps
SHARED=${EVIDENT_SHARED_DATA:-$ROOT/../shared/data}
[[ -d "$SHARED/osv" ]] || { echo "bench: error: no OSV data at $SHARED/osv (set EVIDENT_SHARED_DATA)" >&2; exit 2; }

cargo build --release --locked -p evident >/dev/null
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/evident"
rm -rf "$OUT" && mkdir -p "$OUT"
python3 bench/make_lockfiles.py "$SHARED/osv" "$OUT/lockfiles"

# median_ms CMD…: runs CMD RUNS times, prints the median wall time in milliseconds.
median_ms() {
    local times=()
    for _ in $(seq "$RUNS"); do
        local t0 t1
        t0=$(date +%s%N)
        "$@" >/dev/null 2>&1 || [[ $? -eq 1 ]]
        t1=$(date +%s%N)
        times+=($(( (t1 - t0) / 1000000 )))
    done
    printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

DB="$OUT/osv.sqlite"
import_ms=$(median_ms bash -c "rm -f '$DB' && '$BIN' db import '$SHARED/osv' --db '$DB'")
"$BIN" db import "$SHARED/osv" --db "$DB" >/dev/null 2>&1 || true
records=$("$BIN" db status --db "$DB" | head -1)

{
    echo "evident dependency benchmark ($(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, median of $RUNS)"
    echo "import of shared OSV data: ${import_ms} ms  ($records)"
    printf '%-22s %9s %11s %10s %9s\n' lockfile packages "sbom (ms)" "scan (ms)" findings
    for eco in npm cargo uv go; do
        dir="$OUT/lockfiles/$eco"
        pkgs=$("$BIN" sbom "$dir" 2>/dev/null | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["components"]))')
        findings=$("$BIN" scan deps "$dir" --db "$DB" --format json 2>/dev/null | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["findings"]))' || true)
        sbom_ms=$(median_ms "$BIN" sbom "$dir")
        scan_ms=$(median_ms "$BIN" scan deps "$dir" --db "$DB" --format json)
        name=$(ls "$dir" | head -1)
        printf '%-22s %9s %11s %10s %9s\n' "$eco/$name" "$pkgs" "$sbom_ms" "$scan_ms" "$findings"
    done
} | tee "$OUT/results.txt"
