#!/usr/bin/env bash
# Every test: types, unit + property tests, integration tests on a real PostgreSQL, the
# pgTAP suite, and a drift check of generated SQL. Installs what a fresh machine lacks.
source "$(dirname "$0")/lib/bootstrap.sh"
ensure_pnpm
ensure_postgres
ensure_pgtap
ensure_pg_cron
ensure_chromium
ensure_node_modules
cd "$FIFO_ROOT"

[ -n "${DATABASE_URL:-}" ] || fifo db start >/dev/null

log "typecheck"
pnpm -s typecheck

if [ -f packages/plv8/src/build.ts ]; then
  log "generated PLV8 SQL is up to date"
  pnpm -s build:plv8 --check
fi

log "unit and integration tests (vitest)"
pnpm -s vitest run

log "pgTAP"
bash scripts/pgtap.sh
