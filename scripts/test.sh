#!/usr/bin/env bash
# Every test: types, unit + property tests, integration tests on a real PostgreSQL, the
# pgTAP suite, and a drift check of generated SQL. Installs what a fresh machine lacks
# (README's first paragraph lists it). FIFO_SKIP_BROWSER=1: no Chromium, browser tests skipped.
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
if [ "${FIFO_SKIP_BROWSER:-}" = 1 ]; then log "FIFO_SKIP_BROWSER=1: the headless-Chromium tests are skipped (each says so)"; fi
vitest_out="$(mktemp)"
pnpm -s vitest run 2>&1 | tee "$vitest_out"
# a warning Node prints while the tests run (a deprecation, an experimental feature) is one a
# newcomer would have to look up: it fails the run like a failing test
if grep -E '\(node:[0-9]+\) [A-Za-z]*Warning:' "$vitest_out" >&2; then
  rm -f "$vitest_out"; echo "Node printed the warning(s) above while the tests ran" >&2; exit 1
fi
rm -f "$vitest_out"

log "pgTAP"
bash scripts/pgtap.sh

log "no warnings in what the README commands print while they set up"
# the check must be able to fail: it flags the warning npm printed on every run before
sample="$(mktemp)"
printf '%s\n' 'npm warn Unknown project config "auto-install-peers". This will stop working in the next major version of npm.' >"$sample"
if warnings_in "$sample" 2>/dev/null; then rm -f "$sample"; echo "the warning check does not flag npm's unknown-config warning" >&2; exit 1; fi
rm -f "$sample"
check_setup_quiet || { echo "warnings in the setup output (above): a newcomer would have to look them up" >&2; exit 1; }
