/**
 * fifo_compute(allocation_version, symbols, mode, computation_id): recomputes the
 * allocations of the given symbols from the ledger. The batch's trades come through a cursor
 * in chunks, each symbol goes through the engine's resumable state in bounded parts, and the
 * rows are written as they come (one text per column, unnest), so memory is bounded at any
 * symbol size. A symbol whose trades are bad fails alone, naming the trade; its previous
 * allocations stay untouched. Mode 'rebuild' (a full recompute of the whole version, 013)
 * writes into the run's unindexed stage table and stages snapshots and review items for the
 * swap (fifo_rebuild_swap), so nothing live changes until then.
 */
import {
  EngineInputError,
  allocate,
  emptyState,
  compareTrades,
  sortTrades,
  type AllocationRow,
  type LedgerEvent,
  type Method,
  type Pooling,
  type ReviewItem,
  type SymbolState,
  type TradeInput,
} from '@fifo-ledger/engine';
import { batchSymbols } from './batches.ts';
import { exec, query, type Plv8Cursor, type Plv8Plan } from './plv8-api.ts';

export type ComputeMode = 'full' | 'incremental' | 'rebuild';

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
  pooling: Pooling;
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
 * Rows per cursor fetch. Small enough that a fetch and the rows written from it die in the
 * young generation: at 20,000 (and 25,000 rows per write) they outlived it, and the host thread
 * spent ~5x longer in full (mark-compact) collections (docs/BENCHMARKS.md); more round trips cost less.
 */
const FETCH_ROWS = 5_000;
/** A symbol with more trades than this goes through the engine in parts of this size. */
const PART_TRADES = 50_000;
/** Allocation rows of whole symbols gathered before one write (see FETCH_ROWS). */
const WRITE_ROWS = 5_000;

const UTC_TEXT = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`;

/**
 * How reads see the facts. order_time is a UTC instant: an adopted `timestamp without time
 * zone` column means UTC, never the session's TimeZone (SQL reads use fifo_utc; here the
 * column's type picks plain SQL, so the watermark filter keeps using the (symbol, order_time)
 * index). Amounts go through numeric: an adopted double precision column prints 1e-05.
 */
interface FactSql {
  /** The trades of the symbols $1, in processing order (per symbol). */
  trades: string;
  /** The trades of symbols $1 from their watermarks $2 (timestamptz) on, in processing order. */
  tradesFrom: string;
  /** Per symbol $1: how many trades from its watermark $2 (NULL: all) on. */
  counts: string;
}

/** Rows as the engine takes them; every value as text, no per-row JSON. */
function tradeColumns(utc: string): string {
  return `t.order_id AS "orderId", t.symbol, t.side, t.size::numeric::text AS size, t.price::numeric::text AS price,
          t.total_fees_usd::numeric::text AS fee, to_char(${utc} AT TIME ZONE 'UTC', ${UTC_TEXT}) AS time, t.account`;
}

/**
 * A symbol's trades in processing order (time; buys before sells; id). Each symbol is read by
 * its own index scan and sorted alone (LATERAL, one symbol after the other in the order of
 * $1): one sort of all the batch's trades by symbol first cost about twice as much of the
 * server's time. A subquery with ORDER BY is never merged into its query, so each symbol's rows
 * come together and in this order; the reader checks that no symbol comes back (BatchRun.begin).
 */
const SYMBOL_ORDER = `ORDER BY t.order_time, t.side = 'sell', t.order_id COLLATE "C"`;

/**
 * Every trades cursor ends with this row (no fact has a NULL symbol), appended after the facts
 * in their order (an Append runs its branches one after the other; a cursor's plan is never
 * parallel). A cursor that ends without it ended early, whatever the cause: the call then
 * fails instead of computing the symbols it did not show as having no trades (which would
 * remove their rows without a word), and a symbol cut short is not computed from half its trades.
 */
const endOfFacts = (facts: string, columns: number): string =>
  `(${facts}) UNION ALL SELECT ${Array.from({ length: columns }, () => 'NULL').join(', ')}`;

/** The symbols $1 (with their watermarks $2 when `fromWatermarks`), one row each, in order. */
const symbolsOf = (fromWatermarks: boolean) =>
  fromWatermarks ? 'unnest($1::text[], $2::timestamptz[]) AS u(symbol, wm)' : 'unnest($1::text[]) AS u(symbol)';

/**
 * per_account pooling: the fills and the transfers of each symbol, as one stream in processing
 * order (time; buys, transfers, sells; id), each branch filtered on its condition.
 */
function eventsSql(utc: string, fromWatermarks: boolean, tradeCond: string, transferCond: string): string {
  return endOfFacts(`
    SELECT e."orderId", e.symbol, e.side, e.size, e.price, e.fee, e.time, e.account, e."toAccount"
      FROM ${symbolsOf(fromWatermarks)}
      CROSS JOIN LATERAL (
        SELECT * FROM (
          SELECT ${tradeColumns(utc)}, NULL::text AS "toAccount", ${utc} AS at, CASE WHEN t.side = 'buy' THEN 0 ELSE 2 END AS rank
            FROM trade_records t WHERE ${tradeCond}
          UNION ALL
          SELECT t.transfer_id, t.symbol, 'transfer', t.size::text, NULL, NULL,
                 to_char(t.transfer_time AT TIME ZONE 'UTC', ${UTC_TEXT}), t.from_account, t.to_account, t.transfer_time, 1
            FROM trade_transfers t WHERE ${transferCond}) e
         ORDER BY e.at, e.rank, e."orderId" COLLATE "C") e`, 9);
}

function factSql(pooling: Pooling): FactSql {
  const naive = query<{ naive: boolean }>(
    `SELECT atttypid = 'timestamp'::regtype AS naive FROM pg_attribute
      WHERE attrelid = 'trade_records'::regclass AND attname = 'order_time'`)[0]?.naive === true;
  const utc = naive ? `(t.order_time AT TIME ZONE 'UTC')` : 't.order_time';
  const fromWatermark = naive ? `(coalesce(u.wm, '-infinity') AT TIME ZONE 'UTC')` : `coalesce(u.wm, '-infinity')`;
  if (pooling === 'per_account') {
    return {
      trades: eventsSql(utc, false, 't.symbol = u.symbol', 't.symbol = u.symbol'),
      tradesFrom: eventsSql(utc, true, `t.symbol = u.symbol AND t.order_time >= ${fromWatermark}`,
                            `t.symbol = u.symbol AND t.transfer_time >= coalesce(u.wm, '-infinity')`),
      counts: `
        SELECT u.symbol, ((SELECT count(*) FROM trade_records t WHERE t.symbol = u.symbol AND t.order_time >= ${fromWatermark})
                        + (SELECT count(*) FROM trade_transfers t WHERE t.symbol = u.symbol AND t.transfer_time >= coalesce(u.wm, '-infinity')))::int AS n
          FROM unnest($1::text[], $2::timestamptz[]) AS u(symbol, wm)`,
    };
  }
  const trades = (fromWatermarks: boolean, cond: string) => endOfFacts(`
    SELECT t.* FROM ${symbolsOf(fromWatermarks)}
     CROSS JOIN LATERAL (SELECT ${tradeColumns(utc)} FROM trade_records t WHERE ${cond} ${SYMBOL_ORDER}) t`, 8);
  return {
    trades: trades(false, 't.symbol = u.symbol'),
    tradesFrom: trades(true, `t.symbol = u.symbol AND t.order_time >= ${fromWatermark}`),
    counts: `
      SELECT u.symbol, (SELECT count(*) FROM trade_records t WHERE t.symbol = u.symbol AND t.order_time >= ${fromWatermark})::int AS n
        FROM unnest($1::text[], $2::timestamptz[]) AS u(symbol, wm)`,
  };
}

function versionOf(version: number): { method: Method; pooling: Pooling } {
  const rows = query<{ method: Method; pooling: Pooling }>(
    'SELECT method, pooling FROM fifo_allocation_versions WHERE allocation_version = $1', [version]);
  const v = rows[0];
  if (!v) throw new Error(`allocation version ${version} does not exist (see fifo_allocation_versions)`);
  return v;
}

function allSymbols(version: number, pooling: Pooling): string[] {
  // symbols that have trades (per_account: or transfers), and those whose trades are all gone
  // but still have a snapshot
  const transfers = pooling === 'per_account' ? 'UNION SELECT DISTINCT symbol FROM trade_transfers' : '';
  return query<{ symbol: string }>(
    `SELECT symbol FROM fifo_ledger_symbols() symbol
     UNION SELECT symbol FROM fifo_inventory_snapshot WHERE allocation_version = $1
     ${transfers}
     ORDER BY 1`, [version]).map((r) => r.symbol);
}

/**
 * Transaction-scoped advisory locks, one per (version, symbol), taken in one sorted order so
 * two runners cannot deadlock; the second waits, then recomputes the same result. Every mode
 * but 'rebuild' also shares the version's rebuild lock, which a whole-version rebuild holds
 * exclusively from its stage to its swap (013), so nothing live changes under it.
 */
function lockSymbols(version: number, symbols: readonly string[], rebuild: boolean): void {
  if (!rebuild) exec(`SELECT pg_advisory_xact_lock_shared(hashtextextended('fifo-ledger-rebuild:' || $1, 0))`, [version]);
  exec(
    `SELECT pg_advisory_xact_lock(hashtextextended('fifo-ledger:' || $1 || ':' || s, 0))
       FROM unnest($2::text[]) s ORDER BY s COLLATE "C"`,
    [version, symbols]);
}

/** The run's stage table (fifo_rebuild_begin made it), checked to be exactly that. */
function stageTable(version: number, computationId: unknown): string {
  if (computationId === null || computationId === undefined || !/^[1-9][0-9]{0,18}$/.test(String(computationId))) {
    throw new Error(`fifo_compute: mode 'rebuild' needs the run's computation_id, got ${String(computationId)}`);
  }
  const name = `fifo_allocations_v${version}_stage_${String(computationId)}`;
  const ok = query<{ ok: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_class c WHERE c.relname = $1 AND c.relnamespace = current_schema()::regnamespace
                       AND c.relkind = 'r' AND NOT c.relispartition) AS ok`, [name])[0]?.ok === true;
  if (!ok) throw new Error(`fifo_compute: no stage table ${name} for run ${String(computationId)} (fifo_rebuild_begin makes it)`);
  return plv8.quote_ident(name);
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
function resumePoints(version: number, method: Method, pooling: Pooling, symbols: readonly string[]): Map<string, ResumePoint> {
  const rows = query<{ symbol: string; method: Method; pooling: Pooling; wm_time: string | null;
                       wm_side: 'buy' | 'sell' | 'transfer' | null; wm_order_id: string | null; processed: number }>(
    `SELECT s.symbol, s.method, s.pooling,
            to_char(s.watermark_time AT TIME ZONE 'UTC', ${UTC_TEXT}) AS wm_time,
            s.watermark_side AS wm_side, s.watermark_order_id AS wm_order_id, s.trades_processed::int AS processed
       FROM fifo_inventory_snapshot s
       LEFT JOIN fifo_dirty_symbols d ON d.allocation_version = s.allocation_version AND d.symbol = s.symbol
      WHERE s.allocation_version = $1 AND s.symbol = ANY ($2::text[])
        AND (d.dirty_from IS NULL OR d.dirty_from > s.watermark_time OR s.watermark_time IS NULL)`,
    [version, symbols]);
  const out = new Map<string, ResumePoint>();
  for (const r of rows) {
    if (r.method !== method || r.pooling !== pooling) continue;
    const watermark = r.wm_time === null ? null : { time: r.wm_time, side: r.wm_side!, orderId: r.wm_order_id! };
    out.set(r.symbol, { watermark, tradesProcessed: Number(r.processed) });
  }
  return out;
}

/** The states a batch continues from: resume points with their snapshots' open lots. */
function resumableStates(version: number, method: Method, pooling: Pooling, points: Map<string, ResumePoint>,
                         symbols: readonly string[]): Map<string, SymbolState> {
  const mine = symbols.filter((s) => points.has(s));
  const out = new Map<string, SymbolState>();
  if (mine.length === 0) return out;
  const rows = query<{ symbol: string; lots: SymbolState['lots'] }>(
    `SELECT symbol, open_lots AS lots FROM fifo_inventory_snapshot
      WHERE allocation_version = $1 AND symbol = ANY ($2::text[])`, [version, mine]);
  for (const r of rows) {
    const p = points.get(r.symbol)!;
    const state: SymbolState = { symbol: r.symbol, method, lots: r.lots, watermark: p.watermark, tradesProcessed: p.tradesProcessed };
    if (pooling === 'per_account') state.pooling = pooling;
    out.set(r.symbol, state);
  }
  return out;
}

/**
 * How many trades each symbol's computation reads: all, or those from its resume point on. A
 * symbol computed from scratch that has a snapshot is sized by it (trades_processed of its last
 * computation) instead of counted: the sizes only shape the batches (what a batch holds is
 * bounded by FETCH_ROWS, PART_TRADES and WRITE_ROWS whatever its size), and counting costs an
 * index scan per symbol on every call (~0.5 s of a full recompute of 1M trades).
 */
function tradeCounts(sql: FactSql, version: number, symbols: readonly string[], points: Map<string, ResumePoint>): Array<{ symbol: string; trades: number }> {
  const n = new Map<string, number>();
  const fresh = symbols.filter((s) => !points.has(s));
  if (fresh.length > 0) {
    for (const r of query<{ symbol: string; n: number }>(
      `SELECT symbol, trades_processed::int AS n FROM fifo_inventory_snapshot WHERE allocation_version = $1 AND symbol = ANY ($2::text[])`,
      [version, fresh])) n.set(r.symbol, Number(r.n));
  }
  const counted = symbols.filter((s) => !n.has(s));
  if (counted.length > 0) {
    const rows = query<{ symbol: string; n: number }>(sql.counts, [counted, counted.map((s) => points.get(s)?.watermark?.time ?? null)]);
    for (const r of rows) n.set(r.symbol, Number(r.n));
  }
  return symbols.map((symbol) => ({ symbol, trades: n.get(symbol) ?? 0 }));
}

function describeError(e: unknown): string {
  if (e instanceof EngineInputError) return e.message;
  return e instanceof Error ? e.message : String(e);
}

/** Where a call writes: the live tables, or (rebuild) the run's stage and staged symbols. */
interface Target {
  version: number;
  computationId: unknown;
  /** The allocation table rows go into (quoted): fifo_allocations, or the stage. */
  table: string;
  rebuild: boolean;
}

/** What one symbol's computation leaves for its final write (its rows went out as they came). */
interface Finished {
  symbol: string;
  state: SymbolState;
  lastAuditId: string;
  /** Computed from its first trade: its earlier review items are all re-issued (or resolved). */
  fromScratch: boolean;
  /** The unmatched transfers it issued (per_account), so the others of a symbol from scratch resolve. */
  unmatchedTransfers: string[];
}

// ---- writing: one typed array per column, unnest'ed by the server ----

const ALLOCATION_COLUMNS = `allocation_version, symbol, sell_order_id, allocation_seq, buy_order_id, allocated_size,
    buy_price, sell_price, buy_time, sell_time, buy_fee_usd, sell_fee_usd, cost_basis_usd, proceeds_usd, pnl_usd, account, computation_id`;

/**
 * One array parameter per column, of the column's type: PLV8 builds each array in the server
 * from the JS strings (numeric_in, timestamptz_in per element: exact), and the Node host sends
 * them in the binary format, so neither joins texts for the server to split again. cost_basis,
 * proceeds and pnl are not sent: they are the contract's formulas over the row's own exact
 * columns (products at full scale, no rounding), so the server computes them and trim_scale
 * gives the engine's canonical text.
 */
function insertRowsSql(table: string): string {
  return `INSERT INTO ${table} (${ALLOCATION_COLUMNS})
     SELECT $1::int, u.symbol, u.sell, u.seq, u.buy, u.size, u.bp, u.sp, u.bt, u.st, u.bf, u.sf,
            trim_scale(u.bp * u.size + u.bf), trim_scale(u.sp * u.size - u.sf),
            trim_scale((u.sp * u.size - u.sf) - (u.bp * u.size + u.bf)), u.account, $13::bigint
       FROM unnest($2::text[], $3::text[], $4::int[], $5::text[], $6::numeric[], $7::numeric[], $8::numeric[],
                   $9::timestamptz[], $10::timestamptz[], $11::numeric[], $12::numeric[], $14::text[])
            AS u(symbol, sell, seq, buy, size, bp, sp, bt, st, bf, sf, account)`;
}

function writeRows(target: Target, rows: readonly AllocationRow[]): number {
  const n = rows.length;
  if (n === 0) return 0;
  const symbols: string[] = new Array(n), sells: string[] = new Array(n), seqs: number[] = new Array(n);
  const buys: (string | null)[] = new Array(n), sizes: string[] = new Array(n), buyPrices: (string | null)[] = new Array(n);
  const sellPrices: string[] = new Array(n), buyTimes: (string | null)[] = new Array(n), sellTimes: string[] = new Array(n);
  const buyFees: (string | null)[] = new Array(n), sellFees: string[] = new Array(n), accounts: string[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const r = rows[i]!;
    symbols[i] = r.symbol;
    sells[i] = r.sellOrderId;
    seqs[i] = r.seq;
    buys[i] = r.buyOrderId;
    sizes[i] = r.allocatedSize;
    buyPrices[i] = r.buyPrice;
    sellPrices[i] = r.sellPrice;
    buyTimes[i] = r.buyTime;
    sellTimes[i] = r.sellTime;
    buyFees[i] = r.buyFee;
    sellFees[i] = r.sellFee;
    accounts[i] = r.account ?? 'default';
  }
  return exec(insertRowsSql(target.table), [
    target.version, symbols, sells, seqs, buys, sizes, buyPrices, sellPrices, buyTimes, sellTimes, buyFees, sellFees,
    target.computationId, accounts,
  ]);
}

/** Recomputed from scratch: the symbols' old rows go (live only: a stage starts empty). */
function deleteRows(target: Target, symbols: readonly string[]): void {
  if (target.rebuild || symbols.length === 0) return;
  exec('DELETE FROM fifo_allocations WHERE allocation_version = $1 AND symbol = ANY ($2::text[])', [target.version, symbols]);
}

function snapshotJson(done: readonly Finished[]): string {
  return JSON.stringify(done.map((d) => ({
    symbol: d.symbol,
    method: d.state.method,
    pooling: d.state.pooling ?? 'universal',
    lots: d.state.lots,
    wm: d.state.watermark,
    processed: d.state.tradesProcessed,
    audit: d.lastAuditId,
  })));
}

function writeSnapshots(target: Target, all: readonly Finished[]): void {
  const { version, computationId } = target;
  if (target.rebuild) {
    // staged: the swap applies them (a symbol whose trades are gone has no watermark: no snapshot)
    exec(
      `INSERT INTO fifo_rebuild_symbols (computation_id, allocation_version, symbol, method, open_lots, watermark_time,
          watermark_side, watermark_order_id, trades_processed, last_audit_id, pooling)
       SELECT $3, $1, r.symbol, r.method, r.lots, (r.wm ->> 'time')::timestamptz, r.wm ->> 'side', r.wm ->> 'orderId',
              r.processed, r.audit, r.pooling
         FROM json_to_recordset($2::json) AS r(symbol text, method text, pooling text, lots jsonb, wm json, processed bigint, audit bigint)`,
      [version, snapshotJson(all), computationId]);
    return;
  }
  // a symbol whose trades are all gone ends as if never computed: no snapshot
  const gone = all.filter((d) => d.state.watermark === null).map((d) => d.symbol);
  if (gone.length > 0) {
    exec('DELETE FROM fifo_inventory_snapshot WHERE allocation_version = $1 AND symbol = ANY ($2::text[])', [version, gone]);
  }
  const done = all.filter((d) => d.state.watermark !== null);
  if (done.length === 0) return;
  exec(
    `INSERT INTO fifo_inventory_snapshot AS s (allocation_version, symbol, method, open_lots, open_lot_count,
        open_size, watermark_time, watermark_side, watermark_order_id, trades_processed, last_audit_id,
        computation_id, computed_at, pooling)
     SELECT $1, r.symbol, r.method, r.lots, json_array_length(r.lots),
            (SELECT coalesce(sum((l ->> 'remaining')::numeric), 0) FROM json_array_elements(r.lots) l),
            (r.wm ->> 'time')::timestamptz, r.wm ->> 'side', r.wm ->> 'orderId', r.processed, r.audit, $3, now(), r.pooling
       FROM json_to_recordset($2::json) AS r(symbol text, method text, pooling text, lots json, wm json, processed bigint, audit bigint)
     ON CONFLICT (allocation_version, symbol) DO UPDATE SET
        method = excluded.method, open_lots = excluded.open_lots, open_lot_count = excluded.open_lot_count,
        open_size = excluded.open_size, watermark_time = excluded.watermark_time,
        watermark_side = excluded.watermark_side, watermark_order_id = excluded.watermark_order_id,
        trades_processed = excluded.trades_processed, last_audit_id = excluded.last_audit_id,
        computation_id = excluded.computation_id, computed_at = excluded.computed_at, pooling = excluded.pooling`,
    [version, snapshotJson(done), computationId]);
}

/**
 * Unmatched sells and transfers become review items; an item never duplicates (upsert on its
 * key) and a resolved or ignored one is never reopened. Rebuild: staged, raised at the swap.
 */
function writeReviewItems(target: Target, reviews: readonly ReviewItem[]): void {
  if (reviews.length === 0) return;
  const items = JSON.stringify(reviews.map((r) => ({
    symbol: r.symbol, issue_type: r.issueType, item_key: r.orderId, order_id: r.orderId, severity: r.severity, details: r.details,
  })));
  if (target.rebuild) {
    exec(
      `INSERT INTO fifo_rebuild_reviews (computation_id, allocation_version, symbol, order_id, severity, details, issue_type)
       SELECT $3, $1, r.symbol, r.order_id, r.severity, r.details, r.issue_type
         FROM json_to_recordset($2::json) AS r(symbol text, order_id text, issue_type text, severity text, details jsonb)`,
      [target.version, items, target.computationId]);
    return;
  }
  // the one upsert every review item goes through (migration 022)
  exec('SELECT count(*) FROM fifo_review_raise($1, $2::json::jsonb, $3)', [target.version, items, target.computationId]);
}

/**
 * A pending item whose sell is matched now is resolved automatically, saying so; so is a
 * pending unmatched transfer of a symbol computed from scratch that did not issue it again
 * (covered now, or gone). Rebuild: at the swap.
 */
function resolveReviews(target: Target, done: readonly Finished[]): void {
  if (target.rebuild) return;
  const symbols = done.map((d) => d.symbol);
  exec(
    `UPDATE manual_review_queue q
        SET status = 'resolved', resolved_at = now(), updated_at = now(), resolved_by = 'fifo_compute',
            resolution_note = 'matched by a later computation', computation_id = $3
      WHERE q.allocation_version = $1 AND q.symbol = ANY ($2::text[]) AND q.issue_type = 'unmatched_sell'
        AND q.status = 'pending'
        AND NOT EXISTS (SELECT 1 FROM fifo_allocations a
                         WHERE a.allocation_version = q.allocation_version AND a.symbol = q.symbol
                           AND a.sell_order_id = q.item_key AND a.buy_order_id IS NULL)`,
    [target.version, symbols, target.computationId]);
  const scratch = done.filter((d) => d.fromScratch);
  if (scratch.length === 0) return;
  const kept = scratch.flatMap((d) => d.unmatchedTransfers.map((id) => [d.symbol, id] as const));
  exec(
    `UPDATE manual_review_queue q
        SET status = 'resolved', resolved_at = now(), updated_at = now(), resolved_by = 'fifo_compute',
            resolution_note = 'covered by a later computation', computation_id = $3
      WHERE q.allocation_version = $1 AND q.symbol = ANY ($2::text[]) AND q.issue_type = 'unmatched_transfer'
        AND q.status = 'pending'
        AND NOT EXISTS (SELECT 1 FROM unnest($4::text[], $5::text[]) k(symbol, id) WHERE k.symbol = q.symbol AND k.id = q.item_key)`,
    [target.version, scratch.map((d) => d.symbol), target.computationId, kept.map((k) => k[0]), kept.map((k) => k[1])]);
}

/** What the end of a call needs of each symbol it computed (not its lots: a call may compute thousands). */
interface Settled {
  symbol: string;
  lastAuditId: string;
  /** The time of its oldest open lot. */
  oldest: string | null;
}

const settledOf = (d: Finished): Settled => ({
  symbol: d.symbol,
  lastAuditId: d.lastAuditId,
  oldest: d.state.lots.reduce<string | null>((m, l) => (m === null || l.time < m ? l.time : m), null),
});

/**
 * Dirty markers the call has consumed; a change that arrived meanwhile keeps its marker (rebuild:
 * at the swap). Once per call, locked in the order fifo_mark_dirty locks them (symbol, "C"): a
 * ledger write marks many symbols in one statement, and had the call cleared them batch by batch
 * (or in a join's order) the two could each hold a marker the other waits for. A marker a ledger
 * write holds (not committed) stands for a change this call cannot have read: it is skipped and
 * stays, so the call never waits for the write (that write moves it on; rolled back, its symbol
 * is only computed again), as the rebuild's swap does (027).
 */
function clearDirty(target: Target, done: readonly Settled[]): void {
  exec(
    `DELETE FROM fifo_dirty_symbols d
      USING (SELECT m.symbol FROM fifo_dirty_symbols m JOIN unnest($2::text[], $3::bigint[]) AS u(symbol, audit_id) ON m.symbol = u.symbol
              WHERE m.allocation_version = $1 AND m.last_audit_id <= u.audit_id
              ORDER BY m.symbol COLLATE "C" FOR UPDATE OF m SKIP LOCKED) l
      WHERE d.allocation_version = $1 AND d.symbol = l.symbol`,
    [target.version, done.map((d) => d.symbol), done.map((d) => d.lastAuditId)]);
}

/**
 * long_held_lot items of the symbols just computed follow their new rows, as of now or the
 * session's fifo.long_held_as_of (migrations 017, 019). Only symbols that can have one are
 * judged: an open lot older than the smallest minimum of the rules (no threshold is below it),
 * or a pending item to resolve; the rest are not even sent (the refresh keeps each symbol's
 * median holding time per snapshot row and reads only the rows appended since, migration 026).
 * Rebuild: after the swap, when the rows are live. `fifo watch` turns it off for its
 * session (fifo.long_held_in_compute = off) and judges every symbol on a timer instead.
 */
function refreshLongHeld(target: Target, done: readonly Settled[]): void {
  const oldest = done.map((d) => d.oldest);
  exec(
    `SELECT fifo_refresh_long_held_lots($1, c.symbols, fifo_long_held_as_of(), $3)
       FROM (SELECT array_agg(u.symbol) AS symbols FROM unnest($2::text[], $4::timestamptz[]) AS u(symbol, oldest)
              WHERE u.oldest < fifo_long_held_as_of() - (SELECT min(r.min_held) FROM fifo_long_held_rules r)
                 OR EXISTS (SELECT 1 FROM manual_review_queue q
                             WHERE q.allocation_version = $1 AND q.symbol = u.symbol
                               AND q.issue_type = 'long_held_lot' AND q.status = 'pending')) c
      WHERE c.symbols IS NOT NULL`,
    [target.version, done.map((d) => d.symbol), target.computationId, oldest]);
}

/** The end of symbols' computations, with their rows: snapshots, review states (dirty markers: at the call's end). */
function finishSymbols(target: Target, done: readonly Finished[]): void {
  writeSnapshots(target, done);
  resolveReviews(target, done);
}

/**
 * The end of a call (not a rebuild's): markers cleared, then long-held items judged, unless the
 * session judges them on a timer instead (fifo.long_held_in_compute = off, as `fifo watch`).
 */
function settle(target: Target, done: readonly Settled[], longHeld: boolean): void {
  if (target.rebuild || done.length === 0) return;
  clearDirty(target, done);
  // after the markers are cleared: a current symbol's open lots are then read from its snapshot (023)
  if (longHeld) refreshLongHeld(target, done);
}

// ---- reading: a cursor, fetched in chunks ----

/**
 * Every row names its sell's account: per_account rows have it from the engine; under universal
 * pooling the engine ignores accounts, so the fills' are put on their rows here.
 */
function stampAccounts(rows: AllocationRow[], events: readonly LedgerEvent[]): void {
  if (rows.length === 0 || rows[0]!.account !== undefined) return;
  const accountOf = new Map<string, string>();
  for (const e of events) if (e.side === 'sell' && e.account !== undefined) accountOf.set(e.orderId, e.account);
  for (const r of rows) r.account = accountOf.get(r.sellOrderId) ?? 'default';
}

const unmatchedTransfers = (reviews: readonly ReviewItem[]): string[] =>
  reviews.filter((r) => r.issueType === 'unmatched_transfer').map((r) => r.orderId);

/** Trades off a cursor one by one, FETCH_ROWS at a time; `skip` drops those up to a watermark. */
class TradeReader {
  private rows: LedgerEvent[] = [];
  private i = 0;
  private done = false;
  /** Rows read so far (for the message should the cursor end early). */
  private read = 0;
  /** The cursor ended early: every later read throws this again (a symbol's failure must not hide it). */
  private broken: Error | null = null;
  readMs = 0;

  constructor(private readonly cursor: Plv8Cursor, private readonly skip: (t: LedgerEvent) => boolean) {}

  /** Throws if the cursor ended early. */
  intact(): void {
    if (this.broken) throw this.broken;
  }

  next(): LedgerEvent | undefined {
    this.intact();
    for (;;) {
      if (this.i < this.rows.length) {
        const t = this.rows[this.i++]!;
        if (!this.skip(t)) return t;
        continue;
      }
      if (this.done) return undefined;
      const t0 = Date.now();
      const got = (this.cursor.fetch(FETCH_ROWS) as LedgerEvent[] | undefined) ?? [];
      this.readMs += Date.now() - t0;
      const last = got[got.length - 1] as { symbol: string | null } | undefined;
      if (last !== undefined && last.symbol === null) {
        got.pop();
        this.done = true;
        this.cursor.close();
      } else if (got.length < FETCH_ROWS) {
        this.broken = new Error(`fifo_compute: the trades cursor ended early (after ${this.read + got.length} rows, without its end row): nothing of this call is kept`);
        throw this.broken;
      }
      this.read += got.length;
      this.rows = got;
      this.i = 0;
    }
  }
}

interface Totals {
  outcomes: SymbolOutcome[];
  /** The symbols computed and written, for the call's end (settle). */
  settled: Settled[];
  readMs: number;
  allocateMs: number;
  writeMs: number;
}

interface Run {
  method: Method;
  pooling: Pooling;
  /** PART_TRADES, or less for tests (setting fifo.compute_part_trades). */
  partTrades: number;
  target: Target;
  sql: { trades: Plv8Plan; tradesFrom: Plv8Plan };
  /** Incremental runs only: the symbols continued from their snapshots. */
  points: Map<string, ResumePoint>;
}

/** A whole small symbol, computed and waiting for the batch's next write. */
interface Pending extends Finished {
  rows: AllocationRow[];
  reviews: ReviewItem[];
  trades: number;
}

/** Reads, allocates and writes one batch of whole symbols; nothing of it is kept afterwards. */
class BatchRun {
  private pending: Pending[] = [];
  private pendingRows = 0;
  private readonly seen = new Set<string>();

  constructor(private readonly run: Run, private readonly audit: Map<string, string>,
              private readonly resumable: Map<string, SymbolState>, private readonly totals: Totals) {}

  private start(symbol: string): SymbolState {
    return this.resumable.get(symbol) ?? emptyState(symbol, this.run.method, this.run.pooling);
  }

  private fail(symbol: string, trades: number, e: unknown): void {
    this.totals.outcomes.push({ symbol, status: 'failed', trades, allocations: 0, unmatched: 0, error: describeError(e) });
  }

  /** A symbol read whole (at most PART_TRADES trades): computed now, written with the others. */
  /**
   * A symbol's trades start: a symbol comes once per batch (its trades all together), so one
   * that comes back means the read's order is broken, and computing it again from its second
   * run of trades would replace its rows with a part of them.
   */
  private begin(symbol: string): void {
    if (this.seen.has(symbol)) throw new Error(`fifo_compute: the trades of ${symbol} came apart in the read (not one run per symbol): nothing of this call is kept`);
    this.seen.add(symbol);
  }

  small(symbol: string, trades: LedgerEvent[]): void {
    this.begin(symbol);
    const t0 = Date.now();
    try {
      const result = allocate(this.start(symbol), sortTrades(trades));
      stampAccounts(result.rows, trades);
      this.pending.push({
        symbol, state: result.state, lastAuditId: this.audit.get(symbol) ?? '0', rows: result.rows, reviews: result.reviews,
        trades: trades.length, fromScratch: !this.resumable.has(symbol), unmatchedTransfers: unmatchedTransfers(result.reviews),
      });
      this.pendingRows += result.rows.length;
    } catch (e) {
      this.fail(symbol, trades.length, e);
    }
    this.totals.allocateMs += Date.now() - t0;
    if (this.pendingRows >= WRITE_ROWS) this.flush();
  }

  /**
   * A symbol too big to hold: its parts go through the engine one after the other, each part's
   * rows written before the next is read, all in one subtransaction, so a bad trade late in the
   * symbol leaves its previous allocations as they were. Returns the next symbol's first trade.
   */
  big(symbol: string, first: LedgerEvent[], after: LedgerEvent, reader: TradeReader): LedgerEvent | undefined {
    this.flush();
    this.begin(symbol);
    const { target } = this.run;
    const totals = this.totals;
    const cur = { next: after as LedgerEvent | undefined, trades: 0, rows: 0, unmatched: 0 };
    const transfers: string[] = [];
    let finished: Finished | undefined;
    // the symbol's next part: `carried` and what follows, up to PART_TRADES; cur.next is the trade after
    const readPart = (carried: LedgerEvent): LedgerEvent[] => {
      const part: LedgerEvent[] = [carried];
      let t = reader.next();
      while (t !== undefined && t.symbol === symbol && part.length < this.run.partTrades) {
        part.push(t);
        t = reader.next();
      }
      cur.next = t;
      return part;
    };
    try {
      plv8.subtransaction(() => {
        let state = this.start(symbol);
        const t0 = Date.now();
        if (!this.resumable.has(symbol)) deleteRows(target, [symbol]);
        totals.writeMs += Date.now() - t0;
        let part = first;
        for (;;) {
          cur.trades += part.length;
          const t1 = Date.now();
          const result = allocate(state, sortTrades(part));
          stampAccounts(result.rows, part);
          for (const id of unmatchedTransfers(result.reviews)) transfers.push(id);
          const t2 = Date.now();
          writeRows(target, result.rows);
          writeReviewItems(target, result.reviews);
          totals.allocateMs += t2 - t1;
          totals.writeMs += Date.now() - t2;
          state = result.state;
          cur.rows += result.rows.length;
          cur.unmatched += result.reviews.length;
          if (cur.next === undefined || cur.next.symbol !== symbol) break;
          part = readPart(cur.next);
        }
        const t3 = Date.now();
        finished = { symbol, state, lastAuditId: this.audit.get(symbol) ?? '0', fromScratch: !this.resumable.has(symbol), unmatchedTransfers: transfers };
        finishSymbols(target, [finished]);
        totals.writeMs += Date.now() - t3;
      });
      totals.settled.push(settledOf(finished!));
      totals.outcomes.push({ symbol, status: 'ok', trades: cur.trades, allocations: cur.rows, unmatched: cur.unmatched });
    } catch (e) {
      reader.intact();
      // the rest of the symbol is read past, not computed
      let t = cur.next;
      let n = cur.trades;
      while (t !== undefined && t.symbol === symbol) {
        n += 1;
        t = reader.next();
      }
      cur.next = t;
      this.fail(symbol, n, e);
    }
    return cur.next;
  }

  /** Streams one cursor's trades, symbol by symbol. */
  consume(reader: TradeReader): void {
    let t = reader.next();
    while (t !== undefined) {
      const symbol = t.symbol;
      const buf: LedgerEvent[] = [t];
      t = reader.next();
      while (t !== undefined && t.symbol === symbol && buf.length < this.run.partTrades) {
        buf.push(t);
        t = reader.next();
      }
      if (t !== undefined && t.symbol === symbol) t = this.big(symbol, buf, t, reader);
      else this.small(symbol, buf);
    }
    this.totals.readMs += reader.readMs;
    reader.readMs = 0;
  }

  /** The symbols of the batch the cursors did not show (no trades, or none after the watermark). */
  rest(wanted: readonly string[]): void {
    for (const s of wanted) if (!this.seen.has(s)) this.small(s, []);
  }

  /**
   * One set of statements for the pending symbols; should the database reject it, each symbol
   * is written in a subtransaction of its own so only the culprit fails.
   */
  flush(): void {
    const done = this.pending;
    if (done.length === 0) return;
    this.pending = [];
    this.pendingRows = 0;
    const { target } = this.run;
    const t0 = Date.now();
    const writeAll = (ds: readonly Pending[]) => {
      deleteRows(target, ds.filter((d) => d.fromScratch).map((d) => d.symbol));
      writeRows(target, ds.length === 1 ? ds[0]!.rows : ds.flatMap((d) => d.rows));
      writeReviewItems(target, ds.length === 1 ? ds[0]!.reviews : ds.flatMap((d) => d.reviews));
      finishSymbols(target, ds);
    };
    let written: Pending[] = done;
    try {
      plv8.subtransaction(() => writeAll(done));
    } catch {
      written = [];
      for (const d of done) {
        try {
          plv8.subtransaction(() => writeAll([d]));
          written.push(d);
        } catch (e) {
          this.fail(d.symbol, d.trades, e);
        }
      }
    }
    for (const d of written) {
      this.totals.settled.push(settledOf(d));
      this.totals.outcomes.push({ symbol: d.symbol, status: 'ok', trades: d.trades, allocations: d.rows.length, unmatched: d.reviews.length });
    }
    this.totals.writeMs += Date.now() - t0;
  }
}

function computeBatch(run: Run, wanted: readonly string[], totals: Totals): void {
  const { version } = run.target;
  // Audit position first, trades second: a change committed in between is included in the
  // trades but not in the position, so its dirty marker survives and it is redone (never lost).
  const audit = new Map(query<{ symbol: string; id: string | null }>(
    `SELECT s AS symbol, greatest((SELECT max(a.audit_id) FROM trade_records_audit a WHERE a.symbol = s),
                                  (SELECT max(a.audit_id) FROM trade_transfers_audit a WHERE a.symbol = s))::text AS id
       FROM unnest($1::text[]) s`, [wanted]).map((r) => [r.symbol, r.id ?? '0']));
  const t0 = Date.now();
  const resumable = resumableStates(version, run.method, run.pooling, run.points, wanted);
  totals.readMs += Date.now() - t0;
  const batch = new BatchRun(run, audit, resumable, totals);
  const fresh = wanted.filter((s) => !resumable.has(s));
  if (fresh.length > 0) batch.consume(new TradeReader(run.sql.trades.cursor([fresh]), () => false));
  if (resumable.size > 0) {
    const symbols = [...resumable.keys()];
    const marks = symbols.map((s) => resumable.get(s)!.watermark?.time ?? null);
    // from the watermark's time on: what is at or before the watermark itself was processed
    batch.consume(new TradeReader(run.sql.tradesFrom.cursor([symbols, marks]), (t) => {
      const wm = resumable.get(t.symbol)?.watermark;
      return wm !== null && wm !== undefined && compareTrades(t, wm) <= 0;
    }));
  }
  batch.rest(wanted);
  batch.flush();
}

/**
 * Any number of symbols in bounded memory (a PLV8 isolate has 256 MB by default): batches
 * of whole symbols of about BATCH_TRADES trades each, read through a cursor, allocated and
 * written one after the other in this one transaction; a call holds at most a fetch, a part
 * of PART_TRADES trades and WRITE_ROWS rows waiting to be written, whatever the symbol's size.
 */
export function compute(
  allocationVersion: number,
  symbols: string[] | null,
  mode: string | null,
  computationId: unknown,
): ComputeSummary {
  const version = Number(allocationVersion);
  const runMode = (mode ?? 'full') as ComputeMode;
  if (runMode !== 'full' && runMode !== 'incremental' && runMode !== 'rebuild') {
    throw new Error(`fifo_compute: mode must be 'full', 'incremental' or 'rebuild', got ${JSON.stringify(mode)}`);
  }
  const { method, pooling } = versionOf(version);
  const rebuild = runMode === 'rebuild';
  const table = rebuild ? stageTable(version, computationId) : 'fifo_allocations';
  // once each: every symbol is read once, by a scan of its own
  const wanted = [...new Set(symbols ?? allSymbols(version, pooling))].sort();
  lockSymbols(version, wanted, rebuild);

  const facts = factSql(pooling);
  const points = runMode === 'incremental' ? resumePoints(version, method, pooling, wanted) : new Map<string, ResumePoint>();
  const plans = {
    trades: plv8.prepare(facts.trades, ['text[]']),
    tradesFrom: plv8.prepare(facts.tradesFrom, ['text[]', 'timestamptz[]']),
  };
  const settings = query<{ part: string | null; long_held: boolean }>(
    `SELECT current_setting('fifo.compute_part_trades', true) AS part,
            current_setting('fifo.long_held_in_compute', true) IS DISTINCT FROM 'off' AS long_held`)[0];
  const setting = Number(settings?.part ?? '');
  const partTrades = Number.isInteger(setting) && setting > 0 && setting < PART_TRADES ? setting : PART_TRADES;
  const run: Run = { method, pooling, partTrades, target: { version, computationId, table, rebuild }, sql: plans, points };
  const batches = batchSymbols(tradeCounts(facts, version, wanted, points), BATCH_TRADES);
  const totals: Totals = { outcomes: [], settled: [], readMs: 0, allocateMs: 0, writeMs: 0 };
  try {
    batches.forEach((batch, i) => {
      const trades = batch.reduce((n, b) => n + b.trades, 0);
      plv8.elog(DEBUG1, `fifo_compute: batch ${i + 1} of ${batches.length}: ${batch.length} symbol(s), ${trades} trade(s)`);
      computeBatch(run, batch.map((b) => b.symbol), totals);
    });
  } finally {
    plans.trades.free();
    plans.tradesFrom.free();
  }
  settle(run.target, totals.settled, settings?.long_held !== false);

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
    allocationVersion: version, mode: runMode, method, pooling, symbols: outcomes,
    tradesProcessed: trades, allocationsWritten: allocations, unmatchedCount: unmatched, symbolsFailed: failed,
    timings: { readMs: totals.readMs, allocateMs: totals.allocateMs, writeMs: totals.writeMs },
  };
}
