#!/usr/bin/env bash
# Secret-scanner benchmark: builds the release binary and a deterministic corpus, then times
# `evident scan secrets` on a working tree, on git history and on a staged (pre-commit) change.
#
#   bash bench/secrets.sh
#
# Environment:
#   BENCH_DIR      where the corpus, reports and results go      (default: bench/out)
#   RUNS           measured runs per scan, best one reported     (default: 3; one warm-up run first)
#   SCANS          which scans to run                            (default: "tree history staged")
#   BENCH_THREADS  pass --threads N to evident                   (default: evident's own default)
#   BENCH_REBUILD  1 = delete and rebuild the corpus             (default: reuse a built one)
#   BENCH_NO_BUILD 1 = skip `cargo build` (use the binary already there)
#   CARGO_TARGET_DIR is respected when locating the binary.
#
# See bench/README.md.

set -euo pipefail

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 2; }

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd -- "$HERE/.." && pwd)
cd "$ROOT"

BENCH_DIR=${BENCH_DIR:-bench/out}
RUNS=${RUNS:-3}
SCANS=${SCANS:-tree history staged}
BENCH_THREADS=${BENCH_THREADS:-}
BENCH_REBUILD=${BENCH_REBUILD:-0}
BENCH_NO_BUILD=${BENCH_NO_BUILD:-0}
PYTHON=${PYTHON:-python3}
MAKE_CORPUS="$HERE/make_corpus.py"

[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer (got '$RUNS')"
for scan in $SCANS; do
    case $scan in tree | history | staged) ;; *) die "unknown scan '$scan' in SCANS (tree, history, staged)" ;; esac
done
for tool in cargo git "$PYTHON" /usr/bin/time; do
    command -v "$tool" >/dev/null || die "'$tool' is required (GNU time: apt-get install time)"
done
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || die "$PYTHON is older than 3.11 (tomllib is needed)"

# An EVIDENT_CONFIG from the caller's environment would change what is measured.
unset EVIDENT_CONFIG

mkdir -p "$BENCH_DIR"
BENCH_DIR=$(cd -- "$BENCH_DIR" && pwd)
CORPUS="$BENCH_DIR/corpus"
REPORTS="$BENCH_DIR/reports"
mkdir -p "$CORPUS" "$REPORTS"

if command -v flock >/dev/null; then
    exec 9>"$BENCH_DIR/.lock"
    flock -n 9 || die "another bench/secrets.sh is running on $BENCH_DIR"
fi

now_ns() { date +%s%N; }
secs_since() { awk -v a="$1" -v b="$(now_ns)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }'; }

# --------------------------------------------------------------------------- 1. build

TARGET_DIR=${CARGO_TARGET_DIR:-target}
EVIDENT="$TARGET_DIR/release/evident"
if [[ "$BENCH_NO_BUILD" != 1 ]]; then
    log "building: cargo build --release --locked -p evident (may wait for a cargo lock)"
    cargo build --release --locked -p evident
fi
[[ -x "$EVIDENT" ]] || die "no binary at $EVIDENT"
EVIDENT=$(cd -- "$(dirname -- "$EVIDENT")" && pwd)/evident
VERSION=$("$EVIDENT" --version)
log "binary: $EVIDENT ($VERSION)"

# --------------------------------------------------------------------------- 2. corpus

CORPUS_VERSION=$("$PYTHON" "$MAKE_CORPUS" version)
LOCK_SHA=$(sha256sum Cargo.lock | cut -c1-16)
STAMP_LINE="corpus-version=$CORPUS_VERSION"

# stamp_ok STAGE: the stage was built by this corpus version.
stamp_ok() {
    [[ "$BENCH_REBUILD" != 1 && -f "$CORPUS/.stamp-$1" ]] \
        && head -n1 "$CORPUS/.stamp-$1" | grep -qx "$STAMP_LINE"
}
stamp_write() { printf '%s\nlock-sha256=%s\n' "$STAMP_LINE" "$LOCK_SHA" >"$CORPUS/.stamp-$1"; }

corpus_start=$(now_ns)
built_any=0

# a. the source tree
if stamp_ok tree; then
    log "corpus: reusing source tree $CORPUS/src"
    built_lock=$(sed -n 's/^lock-sha256=//p' "$CORPUS/.stamp-tree")
    if [[ "$built_lock" != "$LOCK_SHA" ]]; then
        log "note: the corpus was built from another Cargo.lock (kept so results stay comparable;" \
            "BENCH_REBUILD=1 rebuilds it)"
    fi
else
    built_any=1
    rm -f "$CORPUS"/.stamp-*
    t0=$(now_ns)
    log "corpus: cargo fetch --locked (every .crate named by Cargo.lock)"
    cargo fetch --locked
    log "corpus: extracting crates into $CORPUS/src/copyN until >= 500 MB, planting secrets"
    rm -rf "$CORPUS/src" "$CORPUS/src.tmp"
    "$PYTHON" "$MAKE_CORPUS" tree --lock Cargo.lock --out "$CORPUS/src.tmp" --min-bytes 500000000
    mv "$CORPUS/src.tmp" "$CORPUS/src"
    stamp_write tree
    log "corpus: source tree built in $(secs_since "$t0") s"
fi

# b. the history repository (bare), built from copy1 by git fast-import
HIST="$CORPUS/history.git"
if stamp_ok history; then
    log "corpus: reusing history repository $HIST"
else
    built_any=1
    t0=$(now_ns)
    log "corpus: building $HIST with git fast-import (5000 commits)"
    rm -rf "$HIST" "$HIST.tmp"
    git init -q --bare -b main "$HIST.tmp"
    git -C "$HIST.tmp" config gc.auto 0
    "$PYTHON" "$MAKE_CORPUS" history --src "$CORPUS/src/copy1" --commits 5000 --secrets 50 \
        | git -C "$HIST.tmp" fast-import --quiet --done
    log "corpus: git repack -adf --window=10 --depth=50"
    git -C "$HIST.tmp" repack -q -adf --window=10 --depth=50
    git -C "$HIST.tmp" prune-packed
    mv "$HIST.tmp" "$HIST"
    stamp_write history
    log "corpus: history built in $(secs_since "$t0") s"
fi
read -r hist_blobs hist_blob_bytes < <(
    git -C "$HIST" cat-file --batch-all-objects --batch-check='%(objecttype) %(objectsize)' \
        | awk '$1 == "blob" { n++; s += $2 } END { print n + 0, s + 0 }'
)
hist_commits=$(git -C "$HIST" rev-list --count main)
hist_pack=$(du -sk "$HIST/objects/pack" | cut -f1)
log "corpus: history: $hist_commits commits on main ($(git -C "$HIST" rev-parse --short main))," \
    "$hist_blobs unique blobs, $(awk -v b="$hist_blob_bytes" 'BEGIN { printf "%.1f", b / 1e6 }') MB" \
    "of unique blob bytes, pack $((hist_pack / 1024)) MiB"

# c. the staged-change repository: copy1 committed, 5 files modified and staged (one with a secret)
STAGED="$CORPUS/staged"
staged_ok() {
    [[ -d "$STAGED/.git" ]] && [[ $(git -C "$STAGED" diff --cached --name-only | wc -l) -eq 5 ]]
}
if stamp_ok staged && staged_ok; then
    log "corpus: reusing staged repository $STAGED"
else
    built_any=1
    t0=$(now_ns)
    log "corpus: building $STAGED (copy1 committed, then 5 files modified and staged)"
    rm -rf "$STAGED" "$STAGED.tmp"
    cp -a "$CORPUS/src/copy1" "$STAGED.tmp"
    (
        cd "$STAGED.tmp"
        export GIT_AUTHOR_NAME="Bench Author" GIT_AUTHOR_EMAIL="author@bench.invalid"
        export GIT_COMMITTER_NAME="Bench Committer" GIT_COMMITTER_EMAIL="committer@bench.invalid"
        export GIT_AUTHOR_DATE="1600000000 +0000" GIT_COMMITTER_DATE="1600000000 +0000"
        git init -q -b main .
        git config core.autocrlf false
        git config commit.gpgsign false
        git config gc.auto 0
        git add -A .
        git commit -q --no-verify -m "import the crate sources"
        "$PYTHON" "$MAKE_CORPUS" staged --repo . >.staged-files
        git add --pathspec-from-file=.staged-files
        rm .staged-files
    )
    mv "$STAGED.tmp" "$STAGED"
    staged_ok || die "the staged repository does not have exactly 5 staged files"
    stamp_write staged
    log "corpus: staged repository built in $(secs_since "$t0") s"
fi

corpus_secs=$(secs_since "$corpus_start")
if [[ $built_any == 1 ]]; then
    log "corpus: creation took $corpus_secs s"
    echo "$corpus_secs" >"$CORPUS/.creation-seconds"
else
    log "corpus: reused (built earlier in $(cat "$CORPUS/.creation-seconds" 2>/dev/null || echo '?') s)"
fi

# --------------------------------------------------------------------------- 3. measure

THREAD_ARGS=()
if [[ -n "$BENCH_THREADS" ]]; then THREAD_ARGS=(--threads "$BENCH_THREADS"); fi

RESULTS=()

# measure NAME DIR ARGS...: run `evident scan secrets ARGS...` in DIR, one warm-up plus RUNS
# measured runs; record the best wall time, the peak RSS, bytes and findings.
measure() {
    local name=$1 dir=$2
    shift 2
    local report="$REPORTS/$name.json" err="$REPORTS/$name.stderr" rss_file="$REPORTS/$name.rss"
    local best_ns="" peak_kb=0 findings="" bytes="" prev_findings=""
    log "scan $name: (cd $dir && evident scan secrets $* ${THREAD_ARGS[*]:+${THREAD_ARGS[*]} }--format json -o $report)"
    local run
    for ((run = 0; run <= RUNS; run++)); do
        local start end rc
        start=$(now_ns)
        set +e
        (cd "$dir" && exec /usr/bin/time -f '%M' -o "$rss_file" \
            "$EVIDENT" scan secrets "$@" "${THREAD_ARGS[@]}" --format json -o "$report") 2>"$err"
        rc=$?
        set -e
        end=$(now_ns)
        # 0 = clean, 1 = findings (expected: secrets are planted), anything else is a failure.
        if ((rc != 0 && rc != 1)); then
            cat "$err" >&2
            die "scan $name exited with $rc"
        fi
        read -r findings bytes < <("$PYTHON" "$MAKE_CORPUS" summary "$report") || true
        [[ -n "$bytes" ]] || die "scan $name: could not read summary.findings/bytes from $report"
        local ns=$((end - start)) kb
        kb=$(tail -n1 "$rss_file")
        if ((run == 0)); then
            log "  warm-up: $(awk -v n="$ns" 'BEGIN { printf "%.3f", n / 1e9 }') s (exit $rc)"
            continue
        fi
        log "  run $run: $(awk -v n="$ns" -v kb="$kb" 'BEGIN { printf "%.3f s, peak RSS %.0f MB", n / 1e9, kb / 1024 }')," \
            "$findings findings (exit $rc)"
        if [[ -z "$best_ns" ]] || ((ns < best_ns)); then best_ns=$ns; fi
        if ((kb > peak_kb)); then peak_kb=$kb; fi
        if [[ -n "$prev_findings" && "$prev_findings" != "$findings" ]]; then
            log "  warning: findings changed between runs ($prev_findings -> $findings)"
        fi
        prev_findings=$findings
    done
    # Sizes in MB (10^6 bytes; KB under 1 MB), throughput in MB/s, RSS in MB (= KB / 1024).
    RESULTS+=("$(awk -v name="$name" -v b="$bytes" -v ns="$best_ns" -v kb="$peak_kb" -v f="$findings" 'BEGIN {
        s = ns / 1e9; mb = b / 1e6; rate = mb / s
        size = (mb >= 1 || mb == 0) ? sprintf("%8.1f MB", mb) : sprintf("%8.1f KB", b / 1e3)
        speed = (rate >= 10) ? sprintf("%7.0f MB/s", rate) : sprintf("%7.2f MB/s", rate)
        printf "%-8s %s  %7.3f s  %s  peak RSS %5.0f MB  findings %d", name, size, s, speed, kb / 1024, f
    }')")
}

for scan in $SCANS; do
    case $scan in
        tree) measure tree "$CORPUS" src ;;
        history) measure history "$HIST" "$HIST" --history ;;
        staged) measure staged "$STAGED" --staged ;;
    esac
done

# --------------------------------------------------------------------------- table

{
    echo
    echo "evident secrets benchmark — $VERSION — nproc $(nproc) — best of $RUNS after 1 warm-up${BENCH_THREADS:+ — --threads $BENCH_THREADS}"
    echo "corpus v$CORPUS_VERSION in $CORPUS (history: $hist_commits commits, $(awk -v b="$hist_blob_bytes" 'BEGIN { printf "%.1f", b / 1e6 }') MB unique blobs)"
    printf '%s\n' "${RESULTS[@]}"
} | tee "$BENCH_DIR/results.txt"
