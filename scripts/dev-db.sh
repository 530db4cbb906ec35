#!/usr/bin/env bash
# Provision a local PostGIS for Safeground and write its URL to .dev-db.env.
#
# When DATABASE_URL is set, it is used as given: the script only checks that the server answers
# and that PostGIS can be enabled there. When it is unset, the script (idempotently):
#   1. installs Debian's PostgreSQL and postgresql-<ver>-postgis-3 when missing (apt-get; sudo when not root);
#   2. uses the cluster that is running, or starts one (pg_ctlcluster runs the server as `postgres`,
#      since initdb refuses root), or, for an ordinary user without sudo, a private cluster in .pgdata/;
#   3. creates the role `safeground` (LOGIN, CREATEDB, not superuser), the database `safeground`
#      and the template `safeground_template`, both with PostGIS enabled (this needs superuser rights,
#      which is why it is done here and not by the application).
# Variables: PG_VERSION (default 15 where available), SAFEGROUND_DB_NAME, SAFEGROUND_DB_USER, SAFEGROUND_DB_PASSWORD.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=.dev-db.env
# PostgreSQL 15 where the distribution has it (Debian 12); else the one already installed;
# else the distribution's default (e.g. 16 on Ubuntu 24.04).
pick_version() {
  if [ -d /usr/lib/postgresql/15 ] || apt-cache show postgresql-15 >/dev/null 2>&1; then echo 15; return; fi
  local v; v=$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1)
  [ -n "$v" ] && { echo "$v"; return; }
  apt-cache depends postgresql 2>/dev/null | sed -n 's/.*Depends: postgresql-\([0-9][0-9]*\)$/\1/p' | head -1
}
DB_NAME=${SAFEGROUND_DB_NAME:-safeground}
DB_USER=${SAFEGROUND_DB_USER:-safeground}
DB_PASS=${SAFEGROUND_DB_PASSWORD:-safeground}
TEMPLATE=safeground_template
log() { echo "dev-db: $*" >&2; }
export PGOPTIONS="-c client_min_messages=warning"

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else return 1; fi
}

# Run psql as the database superuser: over TCP when the server trusts us, else as the postgres OS user.
PSQL_MODE=""
su_psql() {
  case "$PSQL_MODE" in
    tcp) psql -X -q -v ON_ERROR_STOP=1 -h "$PGHOST_" -p "$PGPORT_" -U postgres "$@" ;;
    private) psql -X -q -v ON_ERROR_STOP=1 -h "$PWD/.pgdata" -p "$PGPORT_" -U "$(id -un)" "$@" ;;
    root) (cd / && runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p "$PGPORT_" "$@") ;;
    sudo) (cd / && sudo -u postgres psql -X -q -v ON_ERROR_STOP=1 -p "$PGPORT_" "$@") ;;
  esac
}

if [ -n "${DATABASE_URL:-}" ]; then
  command -v psql >/dev/null 2>&1 || as_root apt-get -o DPkg::Lock::Timeout=600 install -y -qq postgresql-client >/dev/null
  url=${DATABASE_URL/postgresql+psycopg:/postgresql:}
  if ! psql -X -q "$url" -c "CREATE EXTENSION IF NOT EXISTS postgis" >/dev/null; then
    log "cannot reach DATABASE_URL or enable PostGIS there (it needs the postgis package on that server)"
    exit 1
  fi
  printf 'export DATABASE_URL=%q\n' "$DATABASE_URL" >"$OUT"
  log "using DATABASE_URL as given"
  exit 0
fi

PG_VERSION=${PG_VERSION:-$(pick_version)}
[ -n "$PG_VERSION" ] || { as_root apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null; PG_VERSION=$(pick_version); }
PGHOST_=127.0.0.1
PGPORT_=${PGPORT:-5432}
pkgs=()
[ -x "/usr/lib/postgresql/$PG_VERSION/bin/postgres" ] || pkgs+=("postgresql-$PG_VERSION" postgresql-client)
dpkg -s "postgresql-$PG_VERSION-postgis-3" >/dev/null 2>&1 || pkgs+=("postgresql-$PG_VERSION-postgis-3")
if [ ${#pkgs[@]} -gt 0 ]; then
  log "installing ${pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null || { log "cannot run apt-get (not root and no sudo)"; exit 1; }
  as_root apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${pkgs[@]}" >/dev/null
fi

if [ "$(id -u)" = 0 ] || { command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; }; then
  if ! pg_lsclusters -h 2>/dev/null | awk -v v="$PG_VERSION" '$1==v && $2=="main"' | grep -q .; then
    log "creating cluster $PG_VERSION/main"
    as_root pg_createcluster "$PG_VERSION" main >/dev/null
  fi
  PGPORT_=$(pg_lsclusters -h | awk -v v="$PG_VERSION" '$1==v && $2=="main" {print $3}')
  if ! pg_lsclusters -h | awk -v v="$PG_VERSION" '$1==v && $2=="main" {print $4}' | grep -q online; then
    log "starting cluster $PG_VERSION/main"
    as_root pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" main start
  fi
  if psql -X -q -h "$PGHOST_" -p "$PGPORT_" -U postgres -d postgres -c 'select 1' >/dev/null 2>&1 </dev/null; then
    PSQL_MODE=tcp
  elif [ "$(id -u)" = 0 ]; then PSQL_MODE=root
  else PSQL_MODE=sudo; fi
else
  # Ordinary user without sudo: a private cluster owned by this user, on its own port.
  PGPORT_=${PGPORT:-5433}
  BIN=/usr/lib/postgresql/$PG_VERSION/bin
  if [ ! -f .pgdata/PG_VERSION ]; then
    log "initialising a private cluster in .pgdata"
    "$BIN/initdb" -D .pgdata -A trust -U "$(id -un)" >/dev/null
  fi
  if ! "$BIN/pg_ctl" -D .pgdata status >/dev/null 2>&1; then
    "$BIN/pg_ctl" -D .pgdata -l .pgdata/server.log -w \
      -o "-p $PGPORT_ -k $PWD/.pgdata -c listen_addresses=127.0.0.1" start >/dev/null
  fi
  PSQL_MODE=private
fi

for i in $(seq 1 30); do su_psql -d postgres -c 'select 1' >/dev/null 2>&1 && break; sleep 1; done
su_psql -d postgres >/dev/null <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$DB_USER') THEN
    CREATE ROLE "$DB_USER" LOGIN CREATEDB PASSWORD '$DB_PASS';
  END IF;
END \$\$;
SQL
for db in "$TEMPLATE" "$DB_NAME"; do
  if ! su_psql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
    log "creating database $db"
    su_psql -d postgres -c "CREATE DATABASE \"$db\" OWNER \"$DB_USER\"" >/dev/null
  fi
  su_psql -d "$db" -c "CREATE EXTENSION IF NOT EXISTS postgis" >/dev/null
done
# The template lets the test suite (role without superuser) create throwaway databases with PostGIS.
su_psql -d postgres -c "ALTER DATABASE \"$TEMPLATE\" IS_TEMPLATE true" >/dev/null

printf 'export DATABASE_URL=%q\n' "postgresql://$DB_USER:$DB_PASS@$PGHOST_:$PGPORT_/$DB_NAME" >"$OUT"
log "ready: postgresql://$DB_USER:***@$PGHOST_:$PGPORT_/$DB_NAME ($(su_psql -d "$DB_NAME" -tAc 'SELECT postgis_lib_version()') )"
