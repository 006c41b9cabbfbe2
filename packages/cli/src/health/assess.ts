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
