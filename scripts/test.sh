#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: installs what the tests need (a Python virtual
# environment with the SARIF/JSON schema validator and the pre-commit framework, a PostgreSQL
# server), then runs every Rust test. Nothing is skipped: a test whose tool is missing fails
# and says why.
set -euo pipefail
cd "$(dirname "$0")/.."

cache="${EVIDENT_CACHE_DIR:-$HOME/.cache/evident}"
venv="$cache/venv"
if [ ! -x "$venv/bin/python" ]; then
  mkdir -p "$cache"
  python3 -m venv "$venv"
fi
# Pinned versions of the validators the tests drive (cryptography: Ed25519 for the independent
# auditor-package verifier, scripts/verify_package.py; cyclonedx-python-lib and spdx-tools: the
# official validators of the SBOMs).
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  'jsonschema==4.26.0' 'pre-commit==4.7.0' 'cryptography==50.0.2' \
  'cyclonedx-python-lib[json-validation]==11.12.0' 'spdx-tools==0.8.5'

# The shared test data (official schemas, Merkle proof vectors) sits beside the repository; a
# clone made elsewhere on this machine finds it at /work/shared.
if [ -z "${EVIDENT_SHARED_DATA:-}" ]; then
  for candidate in "$PWD/../shared/data" /work/shared/data; do
    if [ -d "$candidate" ]; then
      EVIDENT_SHARED_DATA="$(cd "$candidate" && pwd)"
      break
    fi
  done
fi
if [ -z "${EVIDENT_SHARED_DATA:-}" ]; then
  echo "error: the shared test data was not found beside the repository; set EVIDENT_SHARED_DATA" >&2
  exit 2
fi
export EVIDENT_SHARED_DATA

# The PostgreSQL evidence index is tested against a real server: scripts/postgres.sh finds, starts
# or installs one and prints the URL of its test database (each test works in a schema of its
# own and drops it). EVIDENT_TEST_SKIP_POSTGRES=1 skips those tests, and they say so.
if [ -z "${EVIDENT_TEST_DATABASE_URL:-}" ] && [ "${EVIDENT_TEST_SKIP_POSTGRES:-}" != 1 ]; then
  EVIDENT_TEST_DATABASE_URL="$(bash scripts/postgres.sh)"
  export EVIDENT_TEST_DATABASE_URL
fi

# The S3 blob store is tested against a real S3-protocol server: scripts/s3.sh installs moto
# (pinned, into the virtual environment above), starts its server on 127.0.0.1:9323 when nothing
# answers there, and prints the endpoint (each test works in a bucket of its own, with Object
# Lock). EVIDENT_TEST_SKIP_S3=1 skips those tests, and they say so.
if [ -z "${EVIDENT_TEST_S3_ENDPOINT:-}" ] && [ "${EVIDENT_TEST_SKIP_S3:-}" != 1 ]; then
  EVIDENT_TEST_S3_ENDPOINT="$(bash scripts/s3.sh)"
  export EVIDENT_TEST_S3_ENDPOINT
fi

export EVIDENT_TEST_PYTHON="$venv/bin/python"
export EVIDENT_TEST_PRE_COMMIT="$venv/bin/pre-commit"

cargo test --workspace --locked "$@"

# The server suites again with every store's index in PostgreSQL and its log and blobs in an S3
# bucket with Object Lock (see crates/evident/tests/common/server.rs): the same tests on the
# company-wide backends. Needs both servers above; skipped (and said) if either was skipped.
if [ "${EVIDENT_TEST_SKIP_POSTGRES:-}" = 1 ] || [ "${EVIDENT_TEST_SKIP_S3:-}" = 1 ]; then
  echo "SKIPPED: the server suites on PostgreSQL + S3 (EVIDENT_TEST_SKIP_POSTGRES or EVIDENT_TEST_SKIP_S3 is 1)" >&2
else
  echo "==> the server suites on PostgreSQL + S3" >&2
  # `--workspace`, as above, so that the dependencies keep the features they were built with
  # (with `-p evident` alone they would be built a second time); only these tests run.
  EVIDENT_TEST_SERVE_BACKEND=postgres+s3 cargo test --workspace --locked \
    --test serve --test serve_api --test serve_export --test serve_timeouts --test serve_crash "$@"
fi
