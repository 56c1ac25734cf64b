#!/usr/bin/env bash
# IaC-scanner benchmark: `evident scan iac` against Checkov on the same inputs, end to end
# (process start included):
#   - examples/iac: a small hand-written Terraform + Kubernetes + Dockerfile repository;
#   - a synthetic repository of RESOURCES resources (default 5,000) from make_iac_corpus.py.
# Checkov is installed from PyPI into $HOME/.cache/evident/checkov-venv when it can be (set
# CHECKOV=/path/to/checkov to use another, or CHECKOV=skip to time evident alone).
# evident's figure is the median of RUNS runs (default 5); Checkov's of CHECKOV_RUNS (default 1,
# it is slow). Peak RSS comes from /usr/bin/time when present.
#
#   bash bench/iac.sh
set -euo pipefail

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd -- "$HERE/.." && pwd)
cd "$ROOT"
RUNS=${RUNS:-5}
CHECKOV_RUNS=${CHECKOV_RUNS:-1}
RESOURCES=${RESOURCES:-5000}
OUT=${BENCH_DIR:-bench/out}/iac
rm -rf "$OUT" && mkdir -p "$OUT"

cargo build --release --locked -p evident >/dev/null
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/evident"
python3 bench/make_iac_corpus.py "$OUT/corpus" "$RESOURCES" >"$OUT/corpus.txt"

CHECKOV=${CHECKOV:-}
if [[ -z "$CHECKOV" ]]; then
    venv="$HOME/.cache/evident/checkov-venv"
    if [[ ! -x "$venv/bin/checkov" ]]; then
        echo "bench: installing checkov from PyPI into $venv" >&2
        python3 -m venv "$venv" && "$venv/bin/pip" install -q checkov >&2 || true
    fi
    if [[ -x "$venv/bin/checkov" ]]; then CHECKOV="$venv/bin/checkov"; else CHECKOV=skip; fi
fi

# wall_ms RUNS CMD…: the median wall time of RUNS runs, in milliseconds.
wall_ms() {
    local runs=$1 times=()
    shift
    for _ in $(seq "$runs"); do
        local t0 t1
        t0=$(date +%s%N)
        "$@" >/dev/null 2>&1 || true
        t1=$(date +%s%N)
        times+=($(( (t1 - t0) / 1000000 )))
    done
    printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

# rss_mb CMD…: peak resident memory of one run, in MB ("-" without GNU time).
rss_mb() {
    if [[ -x /usr/bin/time ]]; then
        /usr/bin/time -f '%M' -o "$OUT/rss" "$@" >/dev/null 2>&1 || true
        tail -1 "$OUT/rss" | awk '{printf "%.0f", $1 / 1024}'
    else
        echo "-"
    fi
}

count_evident() {
    { "$BIN" scan iac "$1" --format json 2>/dev/null || true; } \
        | python3 -c 'import json,sys; r=json.load(sys.stdin); print(len([f for f in r["findings"] if not f.get("suppressed")]))'
}

count_checkov() {
    { "$CHECKOV" -d "$1" --quiet --compact -o json --framework terraform kubernetes dockerfile 2>/dev/null || true; } \
        | python3 -c '
import json, sys
data = json.load(sys.stdin)
data = data if isinstance(data, list) else [data]
print(sum(len(d.get("results", {}).get("failed_checks", [])) for d in data))'
}

{
    echo "evident IaC benchmark ($(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores; evident median of $RUNS, checkov of $CHECKOV_RUNS)"
    cat "$OUT/corpus.txt"
    printf '%-16s %12s %10s %12s %10s %10s %10s %8s\n' input "evident ms" "RSS MB" "checkov ms" "RSS MB" "ratio" "evident" "checkov"
    for input in examples/iac "$OUT/corpus"; do
        e_ms=$(wall_ms "$RUNS" "$BIN" scan iac "$input" --format json)
        e_rss=$(rss_mb "$BIN" scan iac "$input" --format json)
        e_n=$(count_evident "$input")
        if [[ "$CHECKOV" != skip ]]; then
            c_ms=$(wall_ms "$CHECKOV_RUNS" "$CHECKOV" -d "$input" --quiet --compact -o json --framework terraform kubernetes dockerfile)
            c_rss=$(rss_mb "$CHECKOV" -d "$input" --quiet --compact -o json --framework terraform kubernetes dockerfile)
            c_n=$(count_checkov "$input")
            ratio=$(awk -v c="$c_ms" -v e="$e_ms" 'BEGIN { if (e > 0) printf "%.0fx", c / e; else print "-" }')
        else
            c_ms=- c_rss=- c_n=- ratio=-
        fi
        printf '%-16s %12s %10s %12s %10s %10s %10s %8s\n' "$(basename "$input")" "$e_ms" "$e_rss" "$c_ms" "$c_rss" "$ratio" "$e_n" "$c_n"
    done
    echo "(last two columns: failed checks reported; the tools' check sets differ, so counts are not comparable one to one)"
} | tee "$OUT/results.txt"
