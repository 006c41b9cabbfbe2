import { parseArgs } from 'node:util';
import type pg from 'pg';
import { connect } from '../db/connect.ts';
import { CliError, EXIT_CHECKS_FAILED, EXIT_OK } from '../errors.ts';
import { record } from '../format.ts';
import { allocationVersion } from './args.ts';

export const healthUsage = 'usage: fifo health [--version N] [--max-lag-minutes N] [--skip-invariants] [--json]';

export const DEFAULT_MAX_LAG_MINUTES = 10;

export async function readHealth(client: pg.Client, version: number): Promise<Record<string, unknown> | undefined> {
  const { rows } = await client.query('SELECT * FROM v_allocation_health WHERE allocation_version = $1', [version]);
  return rows[0];
}

export interface HealthWarning {
  check: string;
  message: string;
  count: number;
}

export interface HealthReport {
  version: number;
  healthy: boolean;
  max_lag_minutes: number;
  warnings: HealthWarning[];
  /** Facts worth knowing that are not problems (e.g. changes still within the allowed lag). */
  notes: string[];
  /** null when skipped (--skip-invariants). */
  invariant_violations: number | null;
  health: Record<string, unknown>;
}

interface Extra {
  dirty_over_lag: number;
  dirty_over_lag_symbols: string[];
  oldest_dirty_minutes: string | null;
  dirty_within_lag: number;
  stale_not_dirty: number;
  stale_not_dirty_symbols: string[];
  running_minutes: string | null;
}

const list = (symbols: string[], total: number) =>
  `${symbols.join(', ')}${total > symbols.length ? `, … ${total - symbols.length} more` : ''}`;

/**
 * v_allocation_health plus the warnings monitoring acts on. `invariants` also counts the rows
 * of v_allocation_discrepancies for the version: a full pass over its allocations and facts,
 * about 4 s for 300,000 allocations on the embedded server (the rest of health takes well under
 * a second), so a monitor polling a huge ledger every minute may pass --skip-invariants and
 * leave that check to a less frequent `fifo health` or `fifo validate`.
 */
export async function assessHealth(client: pg.Client, version: number, maxLagMinutes: number, invariants = true): Promise<HealthReport> {
  const row = await readHealth(client, version);
  if (!row) throw new CliError(`--version ${version}: no such allocation version (see fifo_allocation_versions)`);
  const { rows: [x] } = await client.query<Extra>(`
    WITH dirty AS (
      SELECT symbol, first_marked_at FROM fifo_dirty_symbols WHERE allocation_version = $1
    ), over AS (
      SELECT symbol FROM dirty WHERE first_marked_at < now() - make_interval(mins => $2) ORDER BY symbol COLLATE "C"
    ), stale AS (  -- trades after the snapshot's watermark (or no snapshot) with no dirty marker
      SELECT l.symbol
        FROM (SELECT symbol, max(order_time) AS last_trade_time FROM trade_records GROUP BY symbol) l
        LEFT JOIN fifo_inventory_snapshot s ON s.allocation_version = $1 AND s.symbol = l.symbol
       WHERE (s.watermark_time IS NULL OR l.last_trade_time > s.watermark_time)
         AND NOT EXISTS (SELECT 1 FROM dirty d WHERE d.symbol = l.symbol)
       ORDER BY l.symbol COLLATE "C"
    )
    SELECT (SELECT count(*) FROM over)::int                                        AS dirty_over_lag,
           (SELECT coalesce(array_agg(symbol), '{}') FROM (SELECT symbol FROM over LIMIT 10) o) AS dirty_over_lag_symbols,
           (SELECT round(extract(epoch FROM now() - min(first_marked_at)) / 60, 1)::text FROM dirty) AS oldest_dirty_minutes,
           (SELECT count(*) FROM dirty)::int - (SELECT count(*) FROM over)::int   AS dirty_within_lag,
           (SELECT count(*) FROM stale)::int                                       AS stale_not_dirty,
           (SELECT coalesce(array_agg(symbol), '{}') FROM (SELECT symbol FROM stale LIMIT 10) s) AS stale_not_dirty_symbols,
           (SELECT round(extract(epoch FROM now() - started_at) / 60, 1)::text
              FROM fifo_computation_log WHERE allocation_version = $1 AND status = 'running'
             ORDER BY computation_id DESC LIMIT 1)                                 AS running_minutes`,
    [version, maxLagMinutes]);
  const { rows: reviews } = await client.query<{ issue_type: string; n: number; nsym: number; symbols: string[] }>(
    `SELECT issue_type, count(*)::int AS n, count(DISTINCT symbol)::int AS nsym,
            (array_agg(DISTINCT symbol ORDER BY symbol))[1:5] AS symbols
       FROM manual_review_queue WHERE allocation_version = $1 AND status = 'pending'
      GROUP BY issue_type ORDER BY issue_type`, [version]);
  let violations: number | null = null;
  if (invariants) {
    const { rows: [v] } = await client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM v_allocation_discrepancies WHERE allocation_version = $1 OR allocation_version IS NULL`, [version]);
    violations = v!.n;
  }

  const e = x!;
  const warnings: HealthWarning[] = [];
  const notes: string[] = [];
  const warn = (check: string, count: number, message: string) => warnings.push({ check, count, message });
  const symbolsInLedger = Number(row.symbols_in_ledger);

  if (symbolsInLedger > 0 && row.last_success_at === null) {
    warn('never_computed', symbolsInLedger, `version ${version} has no successful computation yet (${symbolsInLedger} symbol(s) in the ledger): run \`fifo compute --version ${version}\``);
  }
  if (e.dirty_over_lag > 0) {
    warn('allocations_behind_ledger', e.dirty_over_lag,
      `allocations are behind the ledger: ${e.dirty_over_lag} symbol(s) changed more than ${maxLagMinutes} min ago and not recomputed ` +
      `(oldest change waiting ${e.oldest_dirty_minutes} min: ${list(e.dirty_over_lag_symbols, e.dirty_over_lag)}); run \`fifo compute\``);
  }
  if (e.dirty_within_lag > 0) {
    notes.push(`${e.dirty_within_lag} symbol(s) changed within the last ${maxLagMinutes} min and wait for the next computation`);
  }
  if (e.stale_not_dirty > 0) {
    warn('stale_symbols', e.stale_not_dirty,
      `${e.stale_not_dirty} symbol(s) have trades after their snapshot's watermark but no dirty marker ` +
      `(${list(e.stale_not_dirty_symbols, e.stale_not_dirty)}); run \`fifo compute --force\``);
  }
  const status = row.last_run_status;
  if (status === 'failed' || status === 'abandoned') {
    const err = typeof row.last_run_error === 'string' && row.last_run_error ? `: ${row.last_run_error.split('\n')[0]}` : '';
    warn('last_run_failed', 1, `the last computation run (#${row.last_run_id}) ${status}${err}`);
  }
  if (e.running_minutes !== null && Number(e.running_minutes) > maxLagMinutes) {
    warn('run_stuck', 1, `a computation run has been running for ${e.running_minutes} min (more than ${maxLagMinutes})`);
  }
  for (const r of reviews) {
    const what = r.issue_type === 'unmatched_sell' ? 'unmatched sell(s)' : `${r.issue_type} item(s)`;
    warn(r.issue_type === 'unmatched_sell' ? 'unmatched_sells_pending' : `review_pending_${r.issue_type}`, r.n,
      `${r.n} ${what} pending review in ${r.nsym} symbol(s) (${list(r.symbols, r.nsym)}); see \`fifo review list\``);
  }
  if (violations !== null && violations > 0) {
    warn('invariant_violations', violations, `${violations} invariant violation(s) in v_allocation_discrepancies; run \`fifo validate --version ${version}\``);
  }
  if (violations === null) notes.push('invariants not checked (--skip-invariants)');
  return { version, healthy: warnings.length === 0, max_lag_minutes: maxLagMinutes, warnings, notes, invariant_violations: violations, health: row };
}

export function renderHealth(h: HealthReport): string {
  const out = [record(h.health), ''];
  if (h.invariant_violations !== null) out.push(`invariant violations  ${h.invariant_violations}`, '');
  for (const n of h.notes) out.push(`note: ${n}`);
  if (h.healthy) {
    out.push(`healthy: version ${h.version} is current and clean`);
  } else {
    out.push(`UNHEALTHY: ${h.warnings.length} warning(s)`);
    for (const w of h.warnings) out.push(`  warning [${w.check}]: ${w.message}`);
  }
  return out.join('\n');
}

function nonNegativeInt(name: string, raw: string): number {
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
    throw new CliError(`${name} must be a whole number of minutes (0 or more), got ${JSON.stringify(raw)}`);
  }
  return Number(raw);
}

/** Exit 0 healthy, 1 unhealthy (any warning), 2 bad input: for cron and monitoring. */
export async function healthCommand(args: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      version: { type: 'string' },
      'max-lag-minutes': { type: 'string' },
      'skip-invariants': { type: 'boolean' },
      json: { type: 'boolean' },
    },
    strict: true,
  });
  const version = allocationVersion(values.version);
  const lag = values['max-lag-minutes'] === undefined ? DEFAULT_MAX_LAG_MINUTES : nonNegativeInt('--max-lag-minutes', values['max-lag-minutes']);
  const client = await connect();
  try {
    const h = await assessHealth(client, version, lag, !values['skip-invariants']);
    console.log(values.json ? JSON.stringify(h) : renderHealth(h));
    return h.healthy ? EXIT_OK : EXIT_CHECKS_FAILED;
  } finally {
    await client.end();
  }
}
