#!/usr/bin/env bash
# Makes a PostgreSQL server available on 127.0.0.1:5432 for the tests of the PostgreSQL evidence
# index and prints the URL of its `test` database on standard output (scripts/test.sh exports it
# as EVIDENT_TEST_DATABASE_URL). In order, it uses:
#   1. a server that already answers there;
#   2. the machine's cluster, started (`pg_ctlcluster … main start`);
#   3. PostgreSQL installed from the distribution (as root, with apt-get), then started.
# The database `test` is created when missing. When the superuser `postgres` cannot log in over
# TCP without a password (a fresh Debian cluster asks for one), a role `evident_test` with a
# fixed password is created for the tests instead. Fails, saying why, when nothing works.
set -euo pipefail

host=127.0.0.1
port=5432
database=test
url="postgres://postgres@$host:$port/$database"
test_role=evident_test
test_url="postgres://$test_role:$test_role@$host:$port/$database"

say() { echo "scripts/postgres.sh: $*" >&2; }
die() {
  say "error: $*"
  say "set EVIDENT_TEST_DATABASE_URL to a PostgreSQL database the tests may create schemas in (or EVIDENT_TEST_SKIP_POSTGRES=1 to skip those tests)"
  exit 2
}

ready() { command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h "$host" -p "$port"; }

wait_ready() {
  for _ in $(seq 1 60); do
    ready && return 0
    sleep 1
  done
  return 1
}

# Runs a command as the operating-system user `postgres` (peer authentication on the socket).
as_postgres() {
  if [ "$(id -un)" = postgres ]; then
    "$@"
  elif [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    sudo -n -u postgres -- "$@"
  fi
}

can_connect() { PGCONNECT_TIMEOUT=5 psql "$1" -qAtc 'SELECT 1' >/dev/null 2>&1; }

start_cluster() {
  [ -d /etc/postgresql ] || return 1
  local version
  version="$(ls /etc/postgresql | sort -V | tail -n 1)"
  [ -n "$version" ] && [ -d "/etc/postgresql/$version/main" ] || return 1
  say "starting the PostgreSQL $version cluster (pg_ctlcluster $version main start)"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2 || true
  wait_ready
}

install_postgres() {
  [ "$(id -u)" = 0 ] || die "PostgreSQL is not installed and this is not root: install it (apt-get install postgresql)"
  command -v apt-get >/dev/null 2>&1 || die "PostgreSQL is not installed and there is no apt-get to install it with"
  say "installing PostgreSQL (apt-get install postgresql)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 || die "apt-get update failed"
  apt-get install -y -qq postgresql >&2 || die "apt-get install postgresql failed"
}

if ! ready; then
  if [ -d /etc/postgresql ] && [ -n "$(ls /etc/postgresql 2>/dev/null)" ]; then
    start_cluster || die "PostgreSQL is installed but its cluster did not start on $host:$port"
  else
    install_postgres
    # The package starts its cluster where it can; where it cannot (no init system), start it.
    wait_ready || start_cluster || die "PostgreSQL was installed but does not answer on $host:$port"
  fi
fi

if ! command -v psql >/dev/null 2>&1; then
  # A server answers but there is no client to check it with: take the usual URL as it is.
  echo "$url"
  exit 0
fi
if can_connect "$url"; then
  echo "$url"
  exit 0
fi
if can_connect "$test_url"; then
  echo "$test_url"
  exit 0
fi

# A local server the tests cannot log in to yet: prepare the database and a role, through the
# superuser's socket.
as_postgres psql -qAtc 'SELECT 1' >/dev/null 2>&1 ||
  die "cannot log in to PostgreSQL on $host:$port as postgres, nor as the user postgres on this machine"
if [ "$(as_postgres psql -qAtc "SELECT 1 FROM pg_database WHERE datname = '$database'")" != 1 ]; then
  say "creating the database $database"
  as_postgres createdb "$database" >&2
fi
if can_connect "$url"; then
  echo "$url"
  exit 0
fi
say "creating the role $test_role for the tests (the superuser needs a password over TCP here)"
as_postgres psql -qAt -d "$database" >&2 <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$test_role') THEN
    CREATE ROLE $test_role LOGIN PASSWORD '$test_role';
  ELSE
    ALTER ROLE $test_role LOGIN PASSWORD '$test_role';
  END IF;
END \$\$;
GRANT CREATE, CONNECT ON DATABASE $database TO $test_role;
SQL
can_connect "$test_url" || die "cannot log in to PostgreSQL on $host:$port as $test_role"
echo "$test_url"
