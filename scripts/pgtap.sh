#!/usr/bin/env bash
# pgTAP suite: the SQL surface (schema, triggers, views, adoption) checked by pg_prove
# against scratch databases on the embedded cluster (or the server of DATABASE_URL).
source "$(dirname "$0")/lib/bootstrap.sh"
ensure_pgtap
cd "$FIFO_ROOT"

base="${DATABASE_URL:-$(fifo db start)}"
server="${base%/*}"
psql_q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

fresh_db() {  # drop and create a scratch database, print its URL
  psql_q "$server/postgres" -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1" >/dev/null
  echo "$server/$1"
}
with_db() { DATABASE_URL="$1" pnpm -s fifo "${@:2}"; }

status=0
prove() { pg_prove --ext .sql -d "$@" || status=1; }

log "pgTAP: contract on a fresh schema"
url="$(fresh_db fifo_pgtap)"
psql_q "$url" -c 'CREATE EXTENSION IF NOT EXISTS pgtap' >/dev/null
with_db "$url" migrate up 2>/dev/null
prove "$url" tests/pgtap/*.sql

log "pgTAP: adoption of a legacy trade_records"
url="$(fresh_db fifo_pgtap_adopt)"
psql_q "$url" -c 'CREATE EXTENSION IF NOT EXISTS pgtap' -f tests/pgtap/fixtures/legacy_trade_records.sql >/dev/null
with_db "$url" migrate up 2>/dev/null
prove "$url" tests/pgtap/adoption/*.sql
with_db "$url" migrate down 2>/dev/null
prove "$url" tests/pgtap/after-down/*.sql

exit $status
