/**
 * The compute run: picks the symbols, logs the run in fifo_computation_log, and calls
 * fifo_compute over batches of symbols, one transaction per batch.
 */
import { hostname } from 'node:os';
import type pg from 'pg';
import { DomainError } from '../domain-error.ts';
import { versionMethod } from '../queries/versions.ts';
import { batchSymbols } from '@fifo-ledger/functions/batches';
import type { SymbolOutcome } from '@fifo-ledger/functions/compute';
import type { HostKind, ProcedureSession } from './procedure-host.ts';
import { callFifoCompute } from './procedure-calls.ts';

/** A batch holds whole symbols up to about this many trades (one symbol may exceed it). */
export const DEFAULT_BATCH_TRADES = 25_000;

export interface ComputeRequest {
  version: number;
  /** null: every symbol of the ledger (and those whose trades are gone). */
  symbols: string[] | null;
  /** Recompute every selected symbol, not only dirty, stale or never computed ones. */
  force: boolean;
  /** Continue each symbol from its snapshot (recomputing from scratch only what a change reached). */
  incremental?: boolean;
  /** Only symbols with trades after this time. */
  since?: Date | null;
  batchTrades?: number;
  /** Reject named symbols that have neither trades nor computed rows (the CLI); `watch` skips them. */
  strictSymbols?: boolean;
  /** Log a run even when no symbol needs computing (default true; `watch` logs only real runs). */
  logEmptyRun?: boolean;
  onProgress?: (p: Progress) => void;
  /**
   * Opens another connection to the run's database. With K sessions (`--concurrency K`) a full
   * recompute's last step, the long_held_lot judgement of every symbol, then runs on K
   * connections; without it, on `client` alone.
   */
  connect?: () => Promise<pg.Client>;
}

export interface Progress {
  symbolsDone: number;
  symbolsTotal: number;
  tradesDone: number;
}

/** What fifo_compute reports per symbol (the procedure's own type). */
export type { SymbolOutcome };

export interface ComputeRunResult {
  /** null: nothing needed computing and the request asked not to log an empty run. */
  computationId: string | null;
  allocationVersion: number;
  host: HostKind;
  mode: 'full' | 'incremental';
  status: 'success' | 'failed';
  symbolsConsidered: number;
  symbolsComputed: number;
  symbolsFailed: number;
  tradesProcessed: number;
  allocationsWritten: number;
  unmatchedCount: number;
  durationMs: number;
  failures: SymbolOutcome[];
}

/**
 * Symbols to compute with their trade counts (for batching), in C order. Without --force
 * that is exactly the dirty symbols (every fact change, and a new version, marks them); with
 * it, every symbol of the ledger (a loose index scan) or with a snapshot.
 */
async function selectSymbols(client: pg.Client, req: ComputeRequest): Promise<Array<{ symbol: string; trades: number }>> {
  const { rows: chosen } = await client.query<{ symbol: string }>(
    req.force
      ? `SELECT c.symbol FROM (
           SELECT symbol FROM unnest($2::text[]) symbol WHERE $2::text[] IS NOT NULL
           UNION SELECT symbol FROM fifo_ledger_symbols() symbol WHERE $2::text[] IS NULL
           UNION SELECT DISTINCT symbol FROM trade_transfers WHERE $2::text[] IS NULL
           UNION SELECT symbol FROM fifo_inventory_snapshot WHERE allocation_version = $1 AND $2::text[] IS NULL) c
          WHERE ($3::timestamptz IS NULL OR EXISTS (SELECT 1 FROM trade_records t WHERE t.symbol = c.symbol AND t.order_time > $3))
            AND (EXISTS (SELECT 1 FROM trade_records t WHERE t.symbol = c.symbol)
                 OR EXISTS (SELECT 1 FROM trade_transfers x WHERE x.symbol = c.symbol)
                 OR EXISTS (SELECT 1 FROM fifo_inventory_snapshot s WHERE s.allocation_version = $1 AND s.symbol = c.symbol))`
      : `SELECT d.symbol FROM fifo_dirty_symbols d
          WHERE d.allocation_version = $1 AND ($2::text[] IS NULL OR d.symbol = ANY ($2::text[]))
            AND ($3::timestamptz IS NULL OR EXISTS (SELECT 1 FROM trade_records t WHERE t.symbol = d.symbol AND t.order_time > $3))`,
    [req.version, req.symbols, req.since ?? null]);
  if (chosen.length === 0) return [];
  const { rows: counts } = await client.query<{ symbol: string; trades: string }>(
    `SELECT symbol, count(*)::text AS trades FROM trade_records WHERE symbol = ANY ($1::text[]) GROUP BY symbol`,
    [chosen.map((r) => r.symbol)]);
  const n = new Map(counts.map((c) => [c.symbol, Number(c.trades)]));
  return chosen
    .map((r) => ({ symbol: r.symbol, trades: n.get(r.symbol) ?? 0 }))
    .sort((a, b) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0));
}

/** The swap in one short transaction (fifo_rebuild_swap has its own lock_timeout). */
async function swap(client: pg.Client, version: number, computationId: string): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT fifo_rebuild_swap($1, $2)', [version, computationId]);
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  }
}

/**
 * The rebuilt rows are live only after the swap: the long_held_lot items follow them (outside
 * the swap, which holds the partition's lock; an incremental batch refreshes its own symbols in
 * fifo_compute). It is the first judgement of every symbol's new rows, so each symbol's
 * statistics are computed from its rows (~1 s per 1M rows): with more connections, the symbols
 * are dealt round-robin to them, all judged as of one time. Together they are what the call for
 * every symbol (NULL) judges: the run's symbols and those with a pending item.
 */
async function refreshLongHeld(client: pg.Client, version: number, computationId: string, symbols: readonly string[],
                               more: readonly pg.Client[]): Promise<void> {
  if (more.length === 0) {
    await client.query('SELECT fifo_refresh_long_held_lots($1, NULL, fifo_long_held_as_of(), $2)', [version, computationId]);
    return;
  }
  const { rows: [scope] } = await client.query<{ at: string; pending: string[] }>(
    `SELECT fifo_long_held_as_of()::text AS at,
            ARRAY(SELECT DISTINCT q.symbol FROM manual_review_queue q
                   WHERE q.allocation_version = $1 AND q.issue_type = 'long_held_lot' AND q.status = 'pending'
                     AND q.symbol <> ALL ($2::text[])) AS pending`,
    [version, symbols]);
  const lanes = [client, ...more];
  const parts: string[][] = lanes.map(() => []);
  [...symbols, ...scope!.pending].forEach((s, i) => parts[i % lanes.length]!.push(s));
  await Promise.all(lanes.map((c, i) => c.query('SELECT fifo_refresh_long_held_lots($1, $2::text[], $3::timestamptz, $4)',
    [version, parts[i], scope!.at, computationId])));
}

/** n more connections, or none: the work then runs on the run's own. */
async function openMore(connect: () => Promise<pg.Client>, n: number): Promise<pg.Client[]> {
  const opened = await Promise.allSettled(Array.from({ length: n }, connect));
  const ok = opened.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
  if (ok.length === n) return ok;
  await Promise.all(ok.map((c) => c.end().catch(() => {})));
  return [];
}

/** Drops the stage of a rebuild that did not swap, and lets other runs of the version go on. */
async function endRebuild(client: pg.Client, version: number, computationId: string, staged: boolean): Promise<void> {
  if (staged) await client.query('SELECT fifo_rebuild_abort($1, $2)', [version, computationId]);
  await client.query('SELECT pg_advisory_unlock(fifo_rebuild_lock_key($1))', [version]);
}

export async function runCompute(
  client: pg.Client,
  sessionOrSessions: ProcedureSession | readonly ProcedureSession[],
  req: ComputeRequest,
): Promise<ComputeRunResult> {
  // K sessions (`--concurrency K`) take batches from one queue; each batch is its own
  // transaction and locks its symbols in one sorted order, so they never deadlock.
  const sessions = Array.isArray(sessionOrSessions) ? sessionOrSessions : [sessionOrSessions as ProcedureSession];
  const session = sessions[0]!;
  await versionMethod(client, req.version);
  if (req.symbols && req.strictSymbols !== false) {
    const { rows } = await client.query<{ s: string }>(
      `SELECT s FROM unnest($1::text[]) s
        WHERE NOT EXISTS (SELECT 1 FROM trade_records t WHERE t.symbol = s)
          AND NOT EXISTS (SELECT 1 FROM trade_transfers x WHERE x.symbol = s)
          AND NOT EXISTS (SELECT 1 FROM fifo_inventory_snapshot n WHERE n.symbol = s AND n.allocation_version = $2)`,
      [req.symbols, req.version]);
    if (rows.length > 0) {
      throw new DomainError('unknown_symbols', 'no trades in the ledger and nothing computed', rows.map((r) => r.s).join(', '));
    }
  }
  const mode = req.incremental ? 'incremental' : 'full';
  // every symbol of the version from scratch: built apart and swapped in (migration 013)
  const rebuild = req.force && req.symbols === null && !req.incremental && !req.since;
  const started = Date.now();
  // chosen before the run is logged, so a request that finds nothing to do can leave no row
  const selected = await selectSymbols(client, req);
  if (selected.length === 0 && req.logEmptyRun === false) {
    return {
      computationId: null, allocationVersion: req.version, host: session.kind, mode, status: 'success', symbolsConsidered: 0,
      symbolsComputed: 0, symbolsFailed: 0, tradesProcessed: 0, allocationsWritten: 0, unmatchedCount: 0,
      durationMs: Date.now() - started, failures: [],
    };
  }
  // logged (and what dead runs left behind cleaned) only when a run will be logged (migration 019)
  const { rows: logRows } = await client.query<{ computation_id: string }>(
    `SELECT fifo_run_log_start($1, $2, $3, $4, jsonb_build_object('pid', $5::int, 'hostname', $6::text))::text AS computation_id`,
    [req.version, mode, req.symbols, session.kind, process.pid, hostname()]);
  const computationId = logRows[0]!.computation_id;

  const outcomes: SymbolOutcome[] = [];
  let fatal: Error | undefined;
  let staged = false;
  try {
    if (rebuild) {
      await client.query('SELECT fifo_rebuild_begin($1, $2, true)', [req.version, computationId]);
      staged = true;
    }
    const batches = batchSymbols(selected, req.batchTrades ?? DEFAULT_BATCH_TRADES);
    let symbolsDone = 0;
    let tradesDone = 0;
    req.onProgress?.({ symbolsDone, symbolsTotal: selected.length, tradesDone });
    let next = 0;
    const work = async (worker: ProcedureSession): Promise<void> => {
      while (next < batches.length) {
        const batch = batches[next++]!;
        const names = batch.map((b) => b.symbol);
        try {
          const result = await callFifoCompute(worker, {
            allocation_version: req.version, symbols: names, mode: rebuild ? 'rebuild' : mode, computation_id: computationId,
          });
          outcomes.push(...result.symbols);
        } catch (e) {
          // the whole batch rolled back: its symbols keep their previous allocations
          const msg = (e as Error).message;
          for (const b of batch) outcomes.push({ symbol: b.symbol, status: 'failed', trades: b.trades, allocations: 0, unmatched: 0, error: msg });
        }
        symbolsDone += batch.length;
        tradesDone += batch.reduce((n, b) => n + b.trades, 0);
        req.onProgress?.({ symbolsDone, symbolsTotal: selected.length, tradesDone });
      }
    };
    await Promise.all(sessions.map(work));
    if (staged) {
      await client.query('SELECT fifo_rebuild_finish($1, $2)', [req.version, computationId]);
      await swap(client, req.version, computationId);
      staged = false;
      const more = req.connect && sessions.length > 1 ? await openMore(req.connect, sessions.length - 1) : [];
      try {
        await refreshLongHeld(client, req.version, computationId, selected.map((s) => s.symbol), more);
      } finally {
        await Promise.all(more.map((c) => c.end().catch(() => {})));
      }
    }
  } catch (e) {
    fatal = e as Error;
  } finally {
    if (rebuild) await endRebuild(client, req.version, computationId, staged);
  }

  const { rows: [logged] } = await client.query<{
    status: 'success' | 'failed'; trades_processed: string; allocations_written: string; unmatched_count: string;
    symbols_computed: number; symbols_failed: number;
  }>('SELECT * FROM fifo_run_log_finish($1, $2::jsonb, $3)', [computationId, JSON.stringify(outcomes), fatal?.message ?? null]);
  if (!logged) throw new Error(`run ${computationId} is missing from fifo_computation_log`);
  if (fatal) throw fatal;
  return {
    computationId,
    allocationVersion: req.version,
    host: session.kind,
    mode,
    status: logged.status,
    symbolsConsidered: outcomes.length,
    symbolsComputed: logged.symbols_computed,
    symbolsFailed: logged.symbols_failed,
    tradesProcessed: Number(logged.trades_processed),
    allocationsWritten: Number(logged.allocations_written),
    unmatchedCount: Number(logged.unmatched_count),
    durationMs: Date.now() - started,
    failures: outcomes.filter((o) => o.status === 'failed'),
  };
}
