#!/usr/bin/env bash
# Makes an S3-protocol server available on 127.0.0.1:9323 for the tests of the S3 blob store and
# prints its endpoint URL on standard output (scripts/test.sh exports it as
# EVIDENT_TEST_S3_ENDPOINT); everything else goes to standard error. The server is moto's server
# mode (from PyPI, pinned below), which keeps buckets in memory and refuses to delete an object
# version locked in COMPLIANCE mode before its retain-until date (it does not refuse shortening a
# retention, as S3 does: the tests do not rely on that).
# In order, it uses:
#   1. an S3 server that already answers there;
#   2. moto, installed (quietly, with pip) into the virtual environment of scripts/test.sh
#      (created here when missing) and started in the background, detached, logging to
#      $cache/moto.log, its process id in $cache/moto.pid.
# Fails, saying why, when nothing works or something that is not S3 answers on the port.
set -euo pipefail

host=127.0.0.1
port=9323
endpoint="http://$host:$port"
moto_version=5.2.5

cache="${EVIDENT_CACHE_DIR:-$HOME/.cache/evident}"
venv="$cache/venv"
log="$cache/moto.log"
pidfile="$cache/moto.pid"

say() { echo "scripts/s3.sh: $*" >&2; }
die() {
  say "error: $*"
  say "set EVIDENT_TEST_S3_ENDPOINT to an S3 endpoint whose buckets the tests may create (or EVIDENT_TEST_SKIP_S3=1 to skip those tests)"
  exit 2
}

# What answers on the port: `s3` (an S3 listing of buckets), `other`, or `none`.
probe() {
  python3 - "$endpoint" <<'PY'
import sys, urllib.request, urllib.error
# Straight to the address, whatever proxy the environment names.
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
try:
    with opener.open(sys.argv[1] + "/", timeout=2) as response:
        body = response.read(4096)
except urllib.error.HTTPError as e:
    body = e.read(4096)
except OSError:
    print("none")
    sys.exit(0)
print("s3" if b"ListAllMyBucketsResult" in body else "other")
PY
}

command -v python3 >/dev/null 2>&1 || die "python3 is needed to run moto (apt-get install python3 python3-venv)"

case "$(probe)" in
  s3)
    echo "$endpoint"
    exit 0
    ;;
  other) die "something that is not an S3 server answers on $host:$port" ;;
esac

mkdir -p "$cache"
if [ ! -x "$venv/bin/python" ]; then
  say "creating the virtual environment $venv"
  python3 -m venv "$venv" >&2 || die "cannot create the virtual environment $venv (apt-get install python3-venv)"
fi
if [ "$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("moto"))' 2>/dev/null)" != "$moto_version" ] ||
  [ ! -x "$venv/bin/moto_server" ]; then
  say "installing moto[server]==$moto_version into $venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "moto[server]==$moto_version" >&2 ||
    die "pip install moto[server]==$moto_version failed"
fi

say "starting moto $moto_version on $host:$port (log: $log)"
# Detached, in a session of its own, with no standard stream of ours, so that it outlives this
# script and nothing waits for it to close them.
setsid "$venv/bin/moto_server" -H "$host" -p "$port" </dev/null >>"$log" 2>&1 &
pid=$!

for _ in $(seq 1 120); do
  case "$(probe)" in
    s3)
      # Another run may have started its own server at the same time; keep the pid of the one
      # that is still running.
      if kill -0 "$pid" 2>/dev/null; then echo "$pid" >"$pidfile"; fi
      echo "$endpoint"
      exit 0
      ;;
    other) die "something that is not an S3 server answers on $host:$port" ;;
  esac
  if ! kill -0 "$pid" 2>/dev/null; then
    # It exited: perhaps another run's server took the port a moment ago; else it failed.
    sleep 0.5
    [ "$(probe)" = s3 ] && echo "$endpoint" && exit 0
    tail -n 20 "$log" >&2 || true
    die "moto exited before answering on $host:$port (its log above, in $log)"
  fi
  sleep 0.5
done
kill "$pid" 2>/dev/null || true
tail -n 20 "$log" >&2 || true
die "moto did not answer on $host:$port within 60 seconds (its log above, in $log)"
