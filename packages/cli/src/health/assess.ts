/**
 * `fifo health`'s judgement: the facts queries/health.ts reads, turned into the warnings
 * monitoring acts on, and their text.
 */
import type pg from 'pg';
import { DomainError } from '../domain-error.ts';
import { record } from '../format.ts';
import { invariantViolations, lagFacts, readHealth } from '../queries/health.ts';
import { pendingByType } from '../queries/reviews.ts';

export interface HealthWarning {
  check: string;
  message: string;
  count: number;
}

/**
 * The FIFO health section of the daily report (what the users' own report showed): when the
 * engine last allocated, how much in the last hour and day, the unmatched remainders, the last
 * run. Read from v_allocation_health.
 */
export interface HealthSummary {
  last_allocation_time: string | null;
  allocations_last_hour: number;
  allocations_last_day: number;
  /** Allocation rows without a buy (unmatched remainders of sells), all time. */
  unmatched_sells: number;
  pending_reviews: number;
  dirty_symbols: number;
  stale_symbols: number;
  last_run_id: number | null;
  last_run_status: string | null;
  last_run_mode: string | null;
  last_run_finished_at: string | null;
  last_success_at: string | null;
}

const isoOrNull = (v: unknown): string | null => (v instanceof Date ? v.toISOString() : v === null || v === undefined ? null : String(v));
const count = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));

export function summarizeHealth(row: Record<string, unknown>): HealthSummary {
  return {
    last_allocation_time: isoOrNull(row.last_allocation_time),
    allocations_last_hour: count(row.allocations_last_hour),
    allocations_last_day: count(row.allocations_last_day),
    unmatched_sells: count(row.unmatched_sells),
    pending_reviews: count(row.pending_reviews),
    dirty_symbols: count(row.dirty_symbols),
    stale_symbols: count(row.stale_symbols),
    last_run_id: row.last_run_id === null || row.last_run_id === undefined ? null : Number(row.last_run_id),
    last_run_status: (row.last_run_status as string | null | undefined) ?? null,
    last_run_mode: (row.last_run_mode as string | null | undefined) ?? null,
    last_run_finished_at: isoOrNull(row.last_run_finished_at),
    last_success_at: isoOrNull(row.last_success_at),
  };
}

/** The summary as lines "label  value" (text report, `fifo health`, the mail's text part). */
export function healthLines(h: HealthSummary): Array<[string, string]> {
  const run = h.last_run_id === null ? 'none'
    : `#${h.last_run_id} ${h.last_run_status ?? ''}${h.last_run_mode ? ` (${h.last_run_mode})` : ''}${h.last_run_finished_at ? ` at ${h.last_run_finished_at}` : ''}`;
  return [
    ['last allocation', h.last_allocation_time ?? 'never'],
    ['allocations last hour', String(h.allocations_last_hour)],
    ['allocations last day', String(h.allocations_last_day)],
    ['unmatched sells', String(h.unmatched_sells)],
    ['pending reviews', String(h.pending_reviews)],
    ['dirty / stale symbols', `${h.dirty_symbols} / ${h.stale_symbols}`],
    ['last run', run],
    ['last success', h.last_success_at ?? 'never'],
  ];
}

export function renderHealthSummary(h: HealthSummary): string {
  const rows = healthLines(h);
  const w = Math.max(...rows.map((r) => r[0].length)) + 2;
  return rows.map(([k, v]) => `${k.padEnd(w)}${v}`).join('\n');
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
  /** The FIFO health section (the same as the report's). */
  summary: HealthSummary;
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
  if (!row) throw new DomainError('no_such_version', 'no such allocation version (see fifo_allocation_versions)', String(version));
  const e = await lagFacts(client, version, maxLagMinutes);
  const reviews = await pendingByType(client, version);
  const violations = invariants ? await invariantViolations(client, version) : null;
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
  return { version, healthy: warnings.length === 0, max_lag_minutes: maxLagMinutes, warnings, notes, invariant_violations: violations, health: row, summary: summarizeHealth(row) };
}

export function renderHealth(h: HealthReport): string {
  const out = ['FIFO health', renderHealthSummary(h.summary), '', record(h.health), ''];
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
