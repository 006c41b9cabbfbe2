/**
 * Writes fills into trade_records in one transaction, through the ledger's own path: plain
 * INSERT and UPDATE statements, so the audit trigger records every change and marks the
 * symbols dirty. Idempotent: a fill already in the ledger with the same values is left alone.
 */
import type pg from 'pg';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { copyField, copyIn, startCopyIn } from './copy-in.ts';
import type { Fill } from './fills.ts';

export interface Skipped {
  line: number;
  key: string;
  reason: string;
}

export interface Change {
  line: number;
  key: string;
  symbol: string;
  before: string;
  after: string;
}

export interface ApplyResult {
  read: number;
  inserted: number;
  updated: Change[];
  unchanged: number;
  skipped: Skipped[];
  symbols: string[];
}

/** COPY text is sent in chunks of about this many characters. */
const CHUNK_CHARS = 1 << 18;

/** The fills as COPY text rows, one at a time; `row` makes one row (with its newline). */
function* copyRows(fills: Iterable<Fill>, row: (f: Fill) => string): Generator<string> {
  for (const f of fills) yield row(f);
}

/** The fills as COPY text rows, in chunks; `row` makes one row (with its newline). */
function* copyChunks(fills: Iterable<Fill>, row: (f: Fill) => string): Generator<string> {
  let buf = '';
  for (const f of fills) {
    buf += row(f);
    if (buf.length >= CHUNK_CHARS) {
      yield buf;
      buf = '';
    }
  }
  if (buf !== '') yield buf;
}

/**
 * Rows per COPY statement into trade_records. The ledger trigger runs once per statement, after
 * its last row: while it runs (about half the server's time) the client reads the next
 * statement's rows ahead instead of waiting, so its own work is off the critical path.
 * Audit rows, their ids and the dirty markers are the same as one statement's: the markers are
 * merged per symbol (earliest time, latest audit id), and NOTIFY folds repeats in a transaction.
 */
const ROWS_PER_COPY = 100_000;

/**
 * `rows` (COPY text rows, each with its newline) by several COPY statements of at most
 * `perStatement` rows, in order; the rows inserted. While the server finishes a statement
 * (its trigger), the next statement's rows are made ahead, up to `perStatement`.
 */
async function copyInStatements(client: pg.Client, sql: string, rows: Iterator<string>, perStatement: number): Promise<number> {
  let inserted = 0;
  let ended = false;
  let ahead: Buffer[] = [];
  let aheadRows = 0;
  /** Up to `max` rows (fewer at the end) as one chunk. */
  const chunk = (max: number): [string, number] => {
    let buf = '';
    let n = 0;
    while (n < max && buf.length < CHUNK_CHARS) {
      const r = rows.next();
      if (r.done) {
        ended = true;
        break;
      }
      buf += r.value;
      n++;
    }
    return [buf, n];
  };
  do {
    const made = ahead;
    let count = aheadRows;
    ahead = [];
    aheadRows = 0;
    const statement = function* () {
      yield* made;
      while (!ended && count < perStatement) {
        const [buf, n] = chunk(perStatement - count);
        count += n;
        if (buf !== '') yield buf;
      }
    };
    const q = startCopyIn(client, sql, statement());
    await q.sent;
    let answered = false;
    const settled = q.done.then(() => { answered = true; }, () => { answered = true; });
    try {
      while (!ended && !answered && aheadRows < perStatement) {
        const [buf, n] = chunk(perStatement - aheadRows);
        aheadRows += n;
        // as bytes: a chunk kept as a string is a tree of every row's pieces, several times its size
        if (buf !== '') ahead.push(Buffer.from(buf, 'utf8'));
        await nextTurn(); // lets the server's answer in
      }
    } catch (e) {
      await settled;
      throw e;
    }
    inserted += await q.done;
  } while (!ended || aheadRows > 0);
  return inserted;
}

const isUniqueViolation = (e: unknown) => (e as { code?: string }).code === '23505';

/**
 * A ledger that holds no fact at all cannot hold a key of the file, an order-level fact of one
 * of its orders or fills of one: the fills go straight into trade_records by one COPY (no
 * staging table, no anti-join, no sort of the rows in SQL), through the same trigger, CHECKs
 * and indexes. A fact inserted meanwhile by another session makes the COPY fail on the key;
 * then it is undone to its savepoint and the staged path decides. Null when not taken.
 */
async function copyIntoEmptyLedger(client: pg.Client, fills: () => Iterable<Fill>, source: string, account: string, rowsPerCopy: number): Promise<ApplyResult | null> {
  const { rows: [probe] } = await client.query<{ empty: boolean }>('SELECT NOT EXISTS (SELECT 1 FROM trade_records) AS empty');
  if (!probe!.empty) return null;
  const tail = `\t${copyField(source)}\t${copyField(account)}\n`;
  const symbols = new Set<string>();
  let read = 0;
  const row = (f: Fill) => {
    read++;
    symbols.add(f.symbol);
    return `${copyField(f.key)}\t${f.symbol}\t${f.side}\t${f.size}\t${f.price}\t${f.fee}\t${f.time}${tail}`;
  };
  await client.query('SAVEPOINT fifo_import_copy');
  try {
    const inserted = await copyInStatements(client,
      'COPY trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time, source, account) FROM STDIN',
      copyRows(fills(), row)[Symbol.iterator](), rowsPerCopy);
    await client.query('RELEASE SAVEPOINT fifo_import_copy');
    return { read, inserted, updated: [], unchanged: read - inserted, skipped: [], symbols: [...symbols].sort() };
  } catch (e) {
    if (!isUniqueViolation(e)) throw e;
    await client.query('ROLLBACK TO SAVEPOINT fifo_import_copy');
    return null;
  }
}

/**
 * Runs inside the caller's transaction. `fills()` reads the fills (again at each call). Every
 * fill is in `account` (issue 14); a fill already in the ledger under another account is corrected.
 */
export async function applyFills(client: pg.Client, fills: () => Iterable<Fill>, source: string, account = 'default',
  opts: { rowsPerCopy?: number } = {}): Promise<ApplyResult> {
  return (await copyIntoEmptyLedger(client, fills, source, account, opts.rowsPerCopy ?? ROWS_PER_COPY)) ?? applyStaged(client, fills(), source, account);
}

/** Fills staged by COPY into a temporary table, then compared with the ledger in SQL. */
async function applyStaged(client: pg.Client, fills: Iterable<Fill>, source: string, account: string): Promise<ApplyResult> {
  await client.query(`CREATE TEMP TABLE fifo_import_staging (
      line int NOT NULL, order_id text PRIMARY KEY, exchange_order_id text NOT NULL, symbol text NOT NULL,
      side text NOT NULL, size numeric NOT NULL, price numeric NOT NULL, fee numeric NOT NULL,
      order_time timestamptz NOT NULL) ON COMMIT DROP`);
  let read = 0;
  const row = (f: Fill) => {
    read++;
    return `${f.line}\t${copyField(f.key)}\t${copyField(f.orderId)}\t${f.symbol}\t${f.side}\t${f.size}\t${f.price}\t${f.fee}\t${f.time}\n`;
  };
  await copyIn(client, 'COPY fifo_import_staging FROM STDIN', copyChunks(fills, row));

  // Double-count guards: a fill whose order is already in the ledger as one order-level fact
  // (e.g. recorded by the bot under the plain order id), or an order-level row whose order
  // the ledger already holds as fills (`order:trade`), is skipped rather than added twice.
  const { rows: skippedRows } = await client.query<{ line: number; order_id: string; reason: string }>(
    `WITH fills_held AS (
       SELECT DISTINCT split_part(order_id, ':', 1) AS exchange_order_id FROM trade_records
        WHERE strpos(order_id, ':') > 0
          AND EXISTS (SELECT 1 FROM fifo_import_staging WHERE order_id = exchange_order_id)),
     skip AS (
       SELECT s.line, s.order_id, 'order ' || s.exchange_order_id || ' is already in the ledger as one order-level fact' AS reason
         FROM fifo_import_staging s
        WHERE s.order_id <> s.exchange_order_id
          AND NOT EXISTS (SELECT 1 FROM trade_records t WHERE t.order_id = s.order_id)
          AND EXISTS (SELECT 1 FROM trade_records t WHERE t.order_id = s.exchange_order_id)
       UNION ALL
       SELECT s.line, s.order_id, 'order ' || s.exchange_order_id || ' is already in the ledger as fills (' || s.exchange_order_id || ':<trade id>)'
         FROM fifo_import_staging s JOIN fills_held h USING (exchange_order_id)
        WHERE s.order_id = s.exchange_order_id
          AND NOT EXISTS (SELECT 1 FROM trade_records t WHERE t.order_id = s.order_id))
     DELETE FROM fifo_import_staging s USING skip k WHERE s.order_id = k.order_id
     RETURNING k.line, k.order_id, k.reason`);

  // Corrections: same key, other values. Old values are read first for the report.
  const { rows: changed } = await client.query<{ line: number; order_id: string; symbol: string; before: string; after: string }>(
    `SELECT s.line, s.order_id, s.symbol,
            concat_ws(' ', t.symbol, t.side, t.size, '@', t.price, 'fee', t.total_fees_usd, 'at', t.order_time,
                      CASE WHEN t.account <> $1 THEN 'in ' || t.account END) AS before,
            concat_ws(' ', s.symbol, s.side, s.size, '@', s.price, 'fee', s.fee, 'at', s.order_time,
                      CASE WHEN t.account <> $1 THEN 'in ' || $1 END) AS after
       FROM fifo_import_staging s JOIN trade_records t ON t.order_id = s.order_id
      WHERE (t.symbol, t.side, t.size::numeric, t.price::numeric, t.total_fees_usd::numeric, t.order_time::timestamptz, t.account)
            IS DISTINCT FROM (s.symbol, s.side, s.size, s.price, s.fee, s.order_time, $1)
      ORDER BY s.line`, [account]);
  if (changed.length > 0) {
    await client.query(
      `UPDATE trade_records t
          SET symbol = s.symbol, side = s.side, size = s.size, price = s.price, total_fees_usd = s.fee, order_time = s.order_time,
              account = $1
         FROM fifo_import_staging s
        WHERE t.order_id = s.order_id
          AND (t.symbol, t.side, t.size::numeric, t.price::numeric, t.total_fees_usd::numeric, t.order_time::timestamptz, t.account)
              IS DISTINCT FROM (s.symbol, s.side, s.size, s.price, s.fee, s.order_time, $1)`, [account]);
  }
  // Counted per symbol in SQL: a million inserted rows need not come back to be counted.
  const { rows: inserted } = await client.query<{ symbol: string; n: string }>(
    `WITH ins AS (
       INSERT INTO trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time, source, account)
       SELECT s.order_id, s.symbol, s.side, s.size, s.price, s.fee, s.order_time, $1, $2
         FROM fifo_import_staging s
        WHERE NOT EXISTS (SELECT 1 FROM trade_records t WHERE t.order_id = s.order_id)
        ORDER BY s.order_time, s.order_id
       ON CONFLICT (order_id) DO NOTHING
       RETURNING symbol)
     SELECT symbol, count(*) AS n FROM ins GROUP BY symbol`, [source, account]);
  const insertedCount = inserted.reduce((a, r) => a + Number(r.n), 0);
  const symbols = [...new Set([...inserted.map((r) => r.symbol), ...changed.map((r) => r.symbol)])].sort();
  const skipped = skippedRows.map((r) => ({ line: r.line, key: r.order_id, reason: r.reason })).sort((a, b) => a.line - b.line);
  return {
    read,
    inserted: insertedCount,
    updated: changed.map((r) => ({ line: r.line, key: r.order_id, symbol: r.symbol, before: r.before, after: r.after })),
    unchanged: read - insertedCount - changed.length - skipped.length,
    skipped,
    symbols,
  };
}
