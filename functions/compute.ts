/**
 * fifo_compute(allocation_version, symbols, mode, computation_id): recomputes the
 * allocations of the given symbols from the ledger. Set-based I/O: one query reads the
 * batch's trades, one statement writes its allocations (json_to_recordset), one its
 * snapshots, one its review items. A symbol whose trades are bad fails alone, naming the
 * trade; its previous allocations stay untouched.
 */
import {
  EngineInputError,
  allocate,
  emptyState,
  compareTrades,
  sortTrades,
  type AllocateResult,
  type Method,
  type SymbolState,
  type TradeInput,
} from '../packages/engine/src/index.ts';
import { exec, query } from './plv8-api.ts';

export type ComputeMode = 'full' | 'incremental';

export interface SymbolOutcome {
  symbol: string;
  status: 'ok' | 'failed';
  trades: number;
  allocations: number;
  unmatched: number;
  error?: string;
}

export interface ComputeSummary {
  allocationVersion: number;
  mode: ComputeMode;
  method: Method;
  symbols: SymbolOutcome[];
  tradesProcessed: number;
  allocationsWritten: number;
  unmatchedCount: number;
  symbolsFailed: number;
  /** Milliseconds spent reading, allocating and writing (for tuning; PLV8 has Date.now()). */
  timings: { readMs: number; allocateMs: number; writeMs: number };
}

/** A batch holds whole symbols up to about this many trades (one symbol may exceed it), as the CLI's. */
export const BATCH_TRADES = 25_000;

/**
 * How reads see the facts. order_time is a UTC instant: an adopted `timestamp without time
 * zone` column means UTC, never the session's TimeZone (SQL reads use fifo_utc; here the
 * column's type picks plain SQL, so the watermark filter keeps using the (symbol, order_time)
 * index). Amounts go through numeric: an adopted double precision column prints 1e-05.
 */
interface FactSql {
  /** The trades of the symbols $1 as one JSON text, in processing order. */
  trades: string;
  /** The trades of symbols $1 from their watermarks $2 (timestamptz) on. */
  tradesFrom: string;
  /** Per symbol $1: how many trades from its watermark $2 (NULL: all) on. */
  counts: string;
}

function tradeJson(t: string, utc: string): string {
  return `json_build_object('orderId', ${t}.order_id, 'symbol', ${t}.symbol, 'side', ${t}.side,
           'size', ${t}.size::numeric::text, 'price', ${t}.price::numeric::text, 'fee', ${t}.total_fees_usd::numeric::text,
           'time', to_char(${utc} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))`;
}

function factSql(): FactSql {
  const naive = query<{ naive: boolean }>(
    `SELECT atttypid = 'timestamp'::regtype AS naive FROM pg_attribute
      WHERE attrelid = 'trade_records'::regclass AND attname = 'order_time'`)[0]?.naive === true;
  const utc = (col: string) => (naive ? `(${col} AT TIME ZONE 'UTC')` : col);
  const fromWatermark = naive ? `(coalesce(u.wm, '-infinity') AT TIME ZONE 'UTC')` : `coalesce(u.wm, '-infinity')`;
  // One text value of JSON, parsed once in JS: far cheaper, in PLV8 and in the Node host, than
  // converting thousands of row objects column by column.
  return {
    trades: `
      SELECT coalesce(json_agg(${tradeJson('t', utc('t.order_time'))}
               ORDER BY t.symbol, t.order_time, t.side = 'sell', t.order_id COLLATE "C"), '[]')::text AS trades
        FROM trade_records t
       WHERE t.symbol = ANY ($1::text[])`,
    tradesFrom: `
      SELECT coalesce(json_agg(${tradeJson('t', utc('t.order_time'))}), '[]')::text AS trades
        FROM unnest($1::text[], $2::timestamptz[]) AS u(symbol, wm)
        JOIN trade_records t ON t.symbol = u.symbol AND t.order_time >= ${fromWatermark}`,
    counts: `
      SELECT u.symbol, (SELECT count(*) FROM trade_records t WHERE t.symbol = u.symbol AND t.order_time >= ${fromWatermark})::int AS n
        FROM unnest($1::text[], $2::timestamptz[]) AS u(symbol, wm)`,
  };
}

function readTrades(sql: string, args: unknown[]): TradeInput[] {
  return JSON.parse(query<{ trades: string }>(sql, args)[0]!.trades) as TradeInput[];
}

function methodOf(version: number): Method {
  const rows = query<{ method: Method }>(
    'SELECT method FROM fifo_allocation_versions WHERE allocation_version = $1', [version]);
  const m = rows[0]?.method;
  if (!m) throw new Error(`allocation version ${version} does not exist (see fifo_allocation_versions)`);
  return m;
}

function allSymbols(version: number): string[] {
  // symbols that have trades, and those whose trades are all gone but still have a snapshot
  return query<{ symbol: string }>(
    `SELECT symbol FROM fifo_ledger_symbols() symbol
     UNION SELECT symbol FROM fifo_inventory_snapshot WHERE allocation_version = $1
     ORDER BY 1`, [version]).map((r) => r.symbol);
}

/**
 * Transaction-scoped advisory locks, one per (version, symbol), taken in one sorted order so
 * two runners cannot deadlock; the second waits, then recomputes the same result.
 */
function lockSymbols(version: number, symbols: readonly string[]): void {
  exec(
    `SELECT pg_advisory_xact_lock(hashtextextended('fifo-ledger:' || $1 || ':' || s, 0))
       FROM unnest($2::text[]) s ORDER BY s COLLATE "C"`,
    [version, symbols]);
}

/** Where an incremental run continues a symbol: its snapshot's watermark (lots read per batch). */
interface ResumePoint {
  watermark: SymbolState['watermark'];
  tradesProcessed: number;
}

/**
 * Incremental runs continue a symbol from its snapshot unless a change reached at or before
 * the watermark (a late, back-dated, corrected or deleted fact): such a symbol, like one
 * never computed or computed with another method, is recomputed from scratch.
 */
function resumePoints(version: number, method: Method, symbols: readonly string[]): Map<string, ResumePoint> {
  const rows = query<{ symbol: string; method: Method; wm_time: string | null;
                       wm_side: 'buy' | 'sell' | null; wm_order_id: string | null; processed: number }>(
    `SELECT s.symbol, s.method,
            to_char(s.watermark_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS wm_time,
            s.watermark_side AS wm_side, s.watermark_order_id AS wm_order_id, s.trades_processed::int AS processed
       FROM fifo_inventory_snapshot s
       LEFT JOIN fifo_dirty_symbols d ON d.allocation_version = s.allocation_version AND d.symbol = s.symbol
      WHERE s.allocation_version = $1 AND s.symbol = ANY ($2::text[])
        AND (d.dirty_from IS NULL OR d.dirty_from > s.watermark_time OR s.watermark_time IS NULL)`,
    [version, symbols]);
  const out = new Map<string, ResumePoint>();
  for (const r of rows) {
    if (r.method !== method) continue;
    const watermark = r.wm_time === null ? null : { time: r.wm_time, side: r.wm_side!, orderId: r.wm_order_id! };
    out.set(r.symbol, { watermark, tradesProcessed: Number(r.processed) });
  }
  return out;
}

/** The states a batch continues from: resume points with their snapshots' open lots. */
function resumableStates(version: number, method: Method, points: Map<string, ResumePoint>,
                         symbols: readonly string[]): Map<string, SymbolState> {
  const mine = symbols.filter((s) => points.has(s));
  const out = new Map<string, SymbolState>();
  if (mine.length === 0) return out;
  const rows = query<{ symbol: string; lots: SymbolState['lots'] }>(
    `SELECT symbol, open_lots AS lots FROM fifo_inventory_snapshot
      WHERE allocation_version = $1 AND symbol = ANY ($2::text[])`, [version, mine]);
  for (const r of rows) {
    const p = points.get(r.symbol)!;
    out.set(r.symbol, { symbol: r.symbol, method, lots: r.lots, watermark: p.watermark, tradesProcessed: p.tradesProcessed });
  }
  return out;
}

/** How many trades each symbol's computation reads: all, or those from its resume point on. */
function tradeCounts(sql: FactSql, symbols: readonly string[], points: Map<string, ResumePoint>): Array<{ symbol: string; trades: number }> {
  const rows = query<{ symbol: string; n: number }>(sql.counts, [symbols, symbols.map((s) => points.get(s)?.watermark?.time ?? null)]);
  const n = new Map(rows.map((r) => [r.symbol, Number(r.n)]));
  return symbols.map((symbol) => ({ symbol, trades: n.get(symbol) ?? 0 }));
}

/** Whole symbols in order, a new batch whenever the next symbol would pass maxTrades. */
export function batchSymbols<T extends { trades: number }>(items: readonly T[], maxTrades: number): T[][] {
  const out: T[][] = [];
  let cur: T[] = [];
  let n = 0;
  for (const it of items) {
    if (cur.length > 0 && n + it.trades > maxTrades) {
      out.push(cur);
      cur = [];
      n = 0;
    }
    cur.push(it);
    n += it.trades;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/** Trades after each symbol's watermark, read in one query through the (symbol, order_time) index. */
function tradesAfterWatermarks(sql: FactSql, states: Map<string, SymbolState>): Map<string, TradeInput[]> {
  const symbols = [...states.keys()];
  const marks = symbols.map((s) => states.get(s)!.watermark?.time ?? null);
  const out = groupBySymbol(readTrades(sql.tradesFrom, [symbols, marks]));
  for (const [symbol, trades] of out) {
    const wm = states.get(symbol)!.watermark;
    if (wm) out.set(symbol, trades.filter((t) => compareTrades(t, wm) > 0));
  }
  return out;
}

function groupBySymbol(rows: TradeInput[]): Map<string, TradeInput[]> {
  const out = new Map<string, TradeInput[]>();
  for (const r of rows) {
    let list = out.get(r.symbol);
    if (!list) out.set(r.symbol, (list = []));
    list.push(r);
  }
  return out;
}

interface Computed {
  symbol: string;
  result: AllocateResult;
  trades: number;
  lastAuditId: string;
  /** Recomputed from an empty state (replaces the rows) or continued from the snapshot (appends). */
  fromScratch: boolean;
}

function describeError(e: unknown): string {
  if (e instanceof EngineInputError) return e.message;
  return e instanceof Error ? e.message : String(e);
}

function writeAllocations(version: number, computationId: unknown, done: readonly Computed[]): number {
  const replaced = done.filter((d) => d.fromScratch).map((d) => d.symbol);
  if (replaced.length > 0) {
    exec('DELETE FROM fifo_allocations WHERE allocation_version = $1 AND symbol = ANY ($2::text[])', [version, replaced]);
  }
  const rows = done.flatMap((d) => d.result.rows);
  if (rows.length === 0) return 0;
  return exec(
    `INSERT INTO fifo_allocations (allocation_version, symbol, sell_order_id, allocation_seq, buy_order_id,
        allocated_size, buy_price, sell_price, buy_time, sell_time, buy_fee_usd, sell_fee_usd,
        cost_basis_usd, proceeds_usd, pnl_usd, computation_id)
     SELECT $1, r.symbol, r."sellOrderId", r.seq, r."buyOrderId", r."allocatedSize", r."buyPrice", r."sellPrice",
            r."buyTime", r."sellTime", r."buyFee", r."sellFee", r."costBasis", r.proceeds, r.pnl, $3
       FROM json_to_recordset($2::json) AS r(symbol text, "sellOrderId" text, seq int, "buyOrderId" text,
            "allocatedSize" numeric, "buyPrice" numeric, "sellPrice" numeric, "buyTime" timestamptz,
            "sellTime" timestamptz, "buyFee" numeric, "sellFee" numeric, "costBasis" numeric,
            proceeds numeric, pnl numeric)`,
    [version, JSON.stringify(rows), computationId]);
}

function writeSnapshots(version: number, computationId: unknown, all: readonly Computed[]): void {
  // a symbol whose trades are all gone ends as if never computed: no snapshot
  const gone = all.filter((d) => d.result.state.watermark === null).map((d) => d.symbol);
  if (gone.length > 0) {
    exec('DELETE FROM fifo_inventory_snapshot WHERE allocation_version = $1 AND symbol = ANY ($2::text[])', [version, gone]);
  }
  const done = all.filter((d) => d.result.state.watermark !== null);
  if (done.length === 0) return;
  const snaps = done.map((d) => ({
    symbol: d.symbol,
    method: d.result.state.method,
    lots: d.result.state.lots,
    wm: d.result.state.watermark,
    processed: d.result.state.tradesProcessed,
    audit: d.lastAuditId,
  }));
  exec(
    `INSERT INTO fifo_inventory_snapshot AS s (allocation_version, symbol, method, open_lots, open_lot_count,
        open_size, watermark_time, watermark_side, watermark_order_id, trades_processed, last_audit_id,
        computation_id, computed_at)
     SELECT $1, r.symbol, r.method, r.lots, json_array_length(r.lots),
            (SELECT coalesce(sum((l ->> 'remaining')::numeric), 0) FROM json_array_elements(r.lots) l),
            (r.wm ->> 'time')::timestamptz, r.wm ->> 'side', r.wm ->> 'orderId', r.processed, r.audit, $3, now()
       FROM json_to_recordset($2::json) AS r(symbol text, method text, lots json, wm json, processed bigint, audit bigint)
     ON CONFLICT (allocation_version, symbol) DO UPDATE SET
        method = excluded.method, open_lots = excluded.open_lots, open_lot_count = excluded.open_lot_count,
        open_size = excluded.open_size, watermark_time = excluded.watermark_time,
        watermark_side = excluded.watermark_side, watermark_order_id = excluded.watermark_order_id,
        trades_processed = excluded.trades_processed, last_audit_id = excluded.last_audit_id,
        computation_id = excluded.computation_id, computed_at = excluded.computed_at`,
    [version, JSON.stringify(snaps), computationId]);
}

/**
 * Unmatched sells become review items; an item never duplicates (upsert on its key) and a
 * resolved or ignored one is never reopened. A pending item whose sell is matched now is
 * resolved automatically, saying so.
 */
function writeReviews(version: number, computationId: unknown, done: readonly Computed[]): void {
  const items = done.flatMap((d) => d.result.reviews.map((r) => ({
    symbol: r.symbol, orderId: r.orderId, severity: r.severity, details: r.details,
  })));
  exec(
    `INSERT INTO manual_review_queue AS q (allocation_version, symbol, order_id, issue_type, item_key, severity, details, computation_id)
     SELECT $1, r.symbol, r."orderId", 'unmatched_sell', r."orderId", r.severity, r.details, $3
       FROM json_to_recordset($2::json) AS r(symbol text, "orderId" text, severity text, details jsonb)
     ON CONFLICT (allocation_version, symbol, issue_type, item_key) DO UPDATE
        SET details = excluded.details, severity = excluded.severity, updated_at = now(),
            computation_id = excluded.computation_id
      WHERE q.status = 'pending'`,
    [version, JSON.stringify(items), computationId]);
  exec(
    `UPDATE manual_review_queue q
        SET status = 'resolved', resolved_at = now(), updated_at = now(), resolved_by = 'fifo_compute',
            resolution_note = 'matched by a later computation', computation_id = $3
      WHERE q.allocation_version = $1 AND q.symbol = ANY ($2::text[]) AND q.issue_type = 'unmatched_sell'
        AND q.status = 'pending'
        AND NOT EXISTS (SELECT 1 FROM fifo_allocations a
                         WHERE a.allocation_version = q.allocation_version AND a.symbol = q.symbol
                           AND a.sell_order_id = q.item_key AND a.buy_order_id IS NULL)`,
    [version, done.map((d) => d.symbol), computationId]);
}

/** Dirty markers the run has consumed; a change that arrived meanwhile keeps its marker. */
function clearDirty(version: number, done: readonly Computed[]): void {
  exec(
    `DELETE FROM fifo_dirty_symbols d USING unnest($2::text[], $3::bigint[]) AS u(symbol, audit_id)
      WHERE d.allocation_version = $1 AND d.symbol = u.symbol AND d.last_audit_id <= u.audit_id`,
    [version, done.map((d) => d.symbol), done.map((d) => d.lastAuditId)]);
}

function writeAll(version: number, computationId: unknown, done: readonly Computed[]): void {
  writeAllocations(version, computationId, done);
  writeSnapshots(version, computationId, done);
  writeReviews(version, computationId, done);
  clearDirty(version, done);
}

interface Totals {
  outcomes: SymbolOutcome[];
  readMs: number;
  allocateMs: number;
  writeMs: number;
}

interface Run {
  version: number;
  method: Method;
  computationId: unknown;
  sql: FactSql;
  /** Incremental runs only: the symbols continued from their snapshots. */
  points: Map<string, ResumePoint>;
}

/** Reads, allocates and writes one batch of whole symbols; nothing of it is kept afterwards. */
function computeBatch(run: Run, wanted: readonly string[], totals: Totals): void {
  const { version, method, computationId } = run;
  // Audit position first, trades second: a change committed in between is included in the
  // trades but not in the position, so its dirty marker survives and it is redone (never lost).
  const audit = new Map(query<{ symbol: string; id: string | null }>(
    `SELECT s AS symbol, (SELECT max(a.audit_id) FROM trade_records_audit a WHERE a.symbol = s)::text AS id
       FROM unnest($1::text[]) s`, [wanted]).map((r) => [r.symbol, r.id ?? '0']));
  const t0 = Date.now();
  const resumable = resumableStates(version, method, run.points, wanted);
  const fresh = wanted.filter((s) => !resumable.has(s));
  const bySymbol = groupBySymbol(fresh.length > 0 ? readTrades(run.sql.trades, [fresh]) : []);
  if (resumable.size > 0) {
    for (const [symbol, trades] of tradesAfterWatermarks(run.sql, resumable)) bySymbol.set(symbol, trades);
  }

  const t1 = Date.now();
  const outcomes = totals.outcomes;
  const done: Computed[] = [];
  for (const symbol of wanted) {
    const trades = bySymbol.get(symbol) ?? [];
    const resumed = resumable.get(symbol);
    try {
      const start: SymbolState = resumed ?? emptyState(symbol, method);
      const result = allocate(start, sortTrades(trades));
      done.push({ symbol, result, trades: trades.length, lastAuditId: audit.get(symbol) ?? '0', fromScratch: !resumed });
    } catch (e) {
      outcomes.push({ symbol, status: 'failed', trades: trades.length, allocations: 0, unmatched: 0, error: describeError(e) });
    }
    bySymbol.delete(symbol);
  }

  const t2 = Date.now();
  // One set of statements for the whole batch; should the database reject it, each symbol
  // is written in a subtransaction of its own so only the culprit fails.
  let written: Computed[] = done;
  try {
    plv8.subtransaction(() => writeAll(version, computationId, done));
  } catch {
    written = [];
    for (const d of done) {
      try {
        plv8.subtransaction(() => writeAll(version, computationId, [d]));
        written.push(d);
      } catch (e) {
        outcomes.push({ symbol: d.symbol, status: 'failed', trades: d.trades, allocations: 0, unmatched: 0, error: describeError(e) });
      }
    }
  }
  for (const d of written) {
    outcomes.push({
      symbol: d.symbol, status: 'ok', trades: d.trades, allocations: d.result.rows.length,
      unmatched: d.result.reviews.length,
    });
  }
  totals.readMs += t1 - t0;
  totals.allocateMs += t2 - t1;
  totals.writeMs += Date.now() - t2;
}

/**
 * Any number of symbols in bounded memory (a PLV8 isolate has 256 MB by default): batches
 * of whole symbols of about BATCH_TRADES trades each, read, allocated and written one after
 * the other in this one transaction, so a call holds at most one batch (or its largest symbol).
 */
export function compute(
  allocationVersion: number,
  symbols: string[] | null,
  mode: string | null,
  computationId: unknown,
): ComputeSummary {
  const version = Number(allocationVersion);
  const runMode = (mode ?? 'full') as ComputeMode;
  if (runMode !== 'full' && runMode !== 'incremental') {
    throw new Error(`fifo_compute: mode must be 'full' or 'incremental', got ${JSON.stringify(mode)}`);
  }
  const method = methodOf(version);
  const wanted = (symbols ?? allSymbols(version)).slice().sort();
  lockSymbols(version, wanted);

  const sql = factSql();
  const points = runMode === 'incremental' ? resumePoints(version, method, wanted) : new Map<string, ResumePoint>();
  const run: Run = { version, method, computationId, sql, points };
  const batches = batchSymbols(tradeCounts(sql, wanted, points), BATCH_TRADES);
  const totals: Totals = { outcomes: [], readMs: 0, allocateMs: 0, writeMs: 0 };
  batches.forEach((batch, i) => {
    const trades = batch.reduce((n, b) => n + b.trades, 0);
    plv8.elog(DEBUG1, `fifo_compute: batch ${i + 1} of ${batches.length}: ${batch.length} symbol(s), ${trades} trade(s)`);
    computeBatch(run, batch.map((b) => b.symbol), totals);
  });

  const outcomes = totals.outcomes;
  outcomes.sort((a, b) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0));
  let trades = 0, allocations = 0, unmatched = 0, failed = 0;
  for (const o of outcomes) {
    trades += o.trades;
    allocations += o.allocations;
    unmatched += o.unmatched;
    if (o.status === 'failed') failed += 1;
  }
  return {
    allocationVersion: version, mode: runMode, method, symbols: outcomes,
    tradesProcessed: trades, allocationsWritten: allocations, unmatchedCount: unmatched, symbolsFailed: failed,
    timings: { readMs: totals.readMs, allocateMs: totals.allocateMs, writeMs: totals.writeMs },
  };
}
