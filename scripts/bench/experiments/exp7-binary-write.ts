/**
 * Issue 11 experiment: the server's cost of decoding a write, by the form the rows are sent in.
 *
 *   DATABASE_URL=… pnpm exec tsx scripts/bench/experiments/exp7-binary-write.ts [rows] [rounds]
 *
 * The same `rows` allocation rows (read from fifo_allocations as the engine's texts) inserted
 * into an unlogged table without index, in a rolled-back transaction, each variant once per
 * round, interleaved; the client encodes before the clock starts, so the time is the wire and
 * the server:
 *   joined   — today's write: one text per column, string_to_array + casts on the server;
 *   literal  — one typed array per column as an array literal (node-postgres' default for a JS array);
 *   binary   — one typed array per column in the binary format (array_recv, numeric_recv, …).
 */
import { connect, median, uptime } from './lib.ts';
import { encodeArray } from '../../../packages/plv8/src/host/binary-arrays.ts';

const N = Number(process.argv[2] ?? 200000);
const ROUNDS = Number(process.argv[3] ?? 4);
const UTC_TEXT = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`;

const c = await connect();
const { rows } = await c.query<Record<string, string | null>>(
  `SELECT symbol, sell_order_id AS sell, allocation_seq::text AS seq, buy_order_id AS buy, allocated_size::text AS size,
          buy_price::text AS bp, sell_price::text AS sp,
          to_char(buy_time AT TIME ZONE 'UTC', ${UTC_TEXT}) AS bt, to_char(sell_time AT TIME ZONE 'UTC', ${UTC_TEXT}) AS st,
          buy_fee_usd::text AS bf, sell_fee_usd::text AS sf, account,
          cost_basis_usd::text AS cb, proceeds_usd::text AS pr, pnl_usd::text AS pnl
     FROM fifo_allocations ORDER BY symbol, sell_order_id, allocation_seq LIMIT $1`,
  [N],
);
const col = (k: string) => rows.map((r) => r[k] ?? null);
const cols = {
  symbol: col('symbol'), sell: col('sell'), seq: rows.map((r) => Number(r.seq)), buy: col('buy'), size: col('size'),
  bp: col('bp'), sp: col('sp'), bt: col('bt'), st: col('st'), bf: col('bf'), sf: col('sf'), account: col('account'),
  cb: col('cb'), pr: col('pr'), pnl: col('pnl'),
};
await c.query(`CREATE UNLOGGED TABLE IF NOT EXISTS exp7_bare (LIKE fifo_allocations INCLUDING DEFAULTS)`);

const TARGET = `INSERT INTO exp7_bare (allocation_version, symbol, sell_order_id, allocation_seq, buy_order_id, allocated_size,
    buy_price, sell_price, buy_time, sell_time, buy_fee_usd, sell_fee_usd, cost_basis_usd, proceeds_usd, pnl_usd, account, computation_id)
  SELECT 1, u.symbol, u.sell, u.seq, u.buy, u.size, u.bp, u.sp, u.bt, u.st, u.bf, u.sf,
         trim_scale(u.bp * u.size + u.bf), trim_scale(u.sp * u.size - u.sf),
         trim_scale((u.sp * u.size - u.sf) - (u.bp * u.size + u.bf)), u.account, 1`;
const lines = (n: number, type: string) => `string_to_array($${n}::text, E'\\n', '')::${type}[]`;
const quote = (s: string | null) => (s === null ? 'NULL' : /^[^\s"\\{},]+$/.test(s) ? s : `"${s.replace(/[\\"]/g, '\\$&')}"`);
const literal = (xs: (string | null)[]) => `{${xs.map(quote).join(',')}}`;
const joined = (xs: (string | number | null)[]) => xs.map((x) => (x === null ? '' : String(x))).join('\n');

const typed = `${TARGET} FROM unnest($1::text[], $2::text[], $3::int4[], $4::text[], $5::numeric[], $6::numeric[], $7::numeric[],
  $8::timestamptz[], $9::timestamptz[], $10::numeric[], $11::numeric[], $12::text[])
  AS u(symbol, sell, seq, buy, size, bp, sp, bt, st, bf, sf, account)`;
const types = ['text', 'text', 'int4', 'text', 'numeric', 'numeric', 'numeric', 'timestamptz', 'timestamptz', 'numeric', 'numeric', 'text'];
const values = [cols.symbol, cols.sell, cols.seq, cols.buy, cols.size, cols.bp, cols.sp, cols.bt, cols.st, cols.bf, cols.sf, cols.account];

const SENT = `INSERT INTO exp7_bare (allocation_version, symbol, sell_order_id, allocation_seq, buy_order_id, allocated_size,
    buy_price, sell_price, buy_time, sell_time, buy_fee_usd, sell_fee_usd, cost_basis_usd, proceeds_usd, pnl_usd, account, computation_id)
  SELECT 1, u.symbol, u.sell, u.seq, u.buy, u.size, u.bp, u.sp, u.bt, u.st, u.bf, u.sf, u.cb, u.pr, u.pnl, u.account, 1
  FROM unnest($1::text[], $2::text[], $3::int4[], $4::text[], $5::numeric[], $6::numeric[], $7::numeric[],
  $8::timestamptz[], $9::timestamptz[], $10::numeric[], $11::numeric[], $12::text[], $13::numeric[], $14::numeric[], $15::numeric[])
  AS u(symbol, sell, seq, buy, size, bp, sp, bt, st, bf, sf, account, cb, pr, pnl)`;
const variants: Record<string, () => { sql: string; params: unknown[]; encodeMs: number }> = {
  joined: () => {
    const t0 = performance.now();
    const params = [literal(cols.symbol), literal(cols.sell), joined(cols.seq), literal(cols.buy), joined(cols.size), joined(cols.bp),
      joined(cols.sp), joined(cols.bt), joined(cols.st), joined(cols.bf), joined(cols.sf), literal(cols.account)];
    return {
      sql: `${TARGET} FROM unnest($1::text::text[], $2::text::text[], ${lines(3, 'int')}, $4::text::text[], ${lines(5, 'numeric')},
        ${lines(6, 'numeric')}, ${lines(7, 'numeric')}, ${lines(8, 'timestamptz')}, ${lines(9, 'timestamptz')},
        ${lines(10, 'numeric')}, ${lines(11, 'numeric')}, $12::text::text[]) AS u(symbol, sell, seq, buy, size, bp, sp, bt, st, bf, sf, account)`,
      params, encodeMs: performance.now() - t0,
    };
  },
  literal: () => {
    const t0 = performance.now();
    const params = values.map((v) => `{${(v as (string | number | null)[]).map((x) => (typeof x === 'number' ? String(x) : quote(x))).join(',')}}`);
    return { sql: typed, params, encodeMs: performance.now() - t0 };
  },
  binary: () => {
    const t0 = performance.now();
    const params = values.map((v, i) => {
      const b = encodeArray(types[i] as 'text', v as (string | number | null)[]);
      if (b === null) throw new Error(`column ${i} could not be encoded`);
      return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
    });
    return { sql: typed, params, encodeMs: performance.now() - t0 };
  },
  'binary-money': () => {
    const t0 = performance.now();
    const all = [...values, cols.cb, cols.pr, cols.pnl];
    const ts = [...types, 'numeric', 'numeric', 'numeric'];
    const params = all.map((v, i) => {
      const b = encodeArray(ts[i] as 'text', v as (string | number | null)[]);
      if (b === null) throw new Error(`column ${i} could not be encoded`);
      return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
    });
    return { sql: SENT, params, encodeMs: performance.now() - t0 };
  },
};

const times: Record<string, number[]> = {};
const encode: Record<string, number[]> = {};
console.log(`${rows.length} rows, load ${await uptime()}`);
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, make] of Object.entries(variants)) {
    const v = make();
    await c.query('BEGIN');
    const t0 = performance.now();
    const res = await c.query(v.sql, v.params);
    const ms = performance.now() - t0;
    await c.query('ROLLBACK');
    if (res.rowCount !== rows.length) throw new Error(`${name}: ${res.rowCount} rows`);
    (times[name] ??= []).push(ms);
    (encode[name] ??= []).push(v.encodeMs);
  }
}
if (process.env.EXP7_CHECK) {
  // the binary rows are the joined rows, column for column
  for (const name of ['joined', process.env.EXP7_CHECK!]) {
    const v = variants[name]!();
    await c.query(v.sql.replace('SELECT 1,', name === 'joined' ? 'SELECT 1,' : 'SELECT 2,'), v.params);
  }
  const diff = await c.query(`SELECT count(*)::int AS n FROM (SELECT symbol, sell_order_id, allocation_seq, buy_order_id, allocated_size::text, buy_price::text,
    sell_price::text, buy_time, sell_time, buy_fee_usd::text, sell_fee_usd::text, cost_basis_usd::text, proceeds_usd::text, pnl_usd::text, account
    FROM exp7_bare WHERE allocation_version = 1 EXCEPT SELECT symbol, sell_order_id, allocation_seq, buy_order_id, allocated_size::text, buy_price::text,
    sell_price::text, buy_time, sell_time, buy_fee_usd::text, sell_fee_usd::text, cost_basis_usd::text, proceeds_usd::text, pnl_usd::text, account
    FROM exp7_bare WHERE allocation_version = 2) d`);
  console.log(`rows of 'joined' not in 'binary' (text of every column): ${diff.rows[0].n}`);
  await c.query('TRUNCATE exp7_bare');
}
for (const name of Object.keys(variants)) {
  console.log(`${name.padEnd(8)} server+wire ${times[name]!.map((x) => x.toFixed(0)).join(', ')} ms (median ${median(times[name]!).toFixed(0)}); client encode median ${median(encode[name]!).toFixed(0)} ms`);
}
console.log(`load ${await uptime()}`);
await c.end();
