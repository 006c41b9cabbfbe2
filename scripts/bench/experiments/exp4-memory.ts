/**
 * Issue 11, experiment 4: peak RSS of reading ONE symbol of 500,000 trades (table exp_one,
 * made by `prepare` mode) as one json_agg text + JSON.parse (today's read, trades all held)
 * vs. through a cursor in chunks of 50,000 (each chunk converted, then dropped: what a
 * streaming engine holds). Each mode runs in a fresh process:
 *   tsx exp4-memory.ts prepare            # once: generate + COPY exp_one
 *   tsx exp4-memory.ts json|json-text|cursor|cursor-keep|idle
 */
import pg from 'pg';
import { generateLedger } from '../../../packages/cli/src/sample/ledger-generator.ts';
import { copyFrom, copyField } from './copy-in.ts';
import { url } from './lib.ts';

const mode = process.argv[2] ?? 'json';
const N = Number(process.argv[3] ?? 500_000);
const c = new pg.Client({ connectionString: url, types: { getTypeParser: () => (v: string) => v } as never });
await c.connect();
const TO_CHAR = `to_char(order_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
const ORDER = `ORDER BY order_time, side = 'sell', order_id COLLATE "C"`;
const mb = () => (process.resourceUsage().maxRSS / 1024).toFixed(0);
const t0 = performance.now();
let n = 0;
let keep: unknown = null;
if (mode === 'prepare') {
  await c.query(`DROP TABLE IF EXISTS exp_one; CREATE TABLE exp_one (order_id text, symbol text, side text, size numeric,
    price numeric, total_fees_usd numeric, order_time timestamptz)`);
  const ledger = generateLedger({ trades: N, symbols: 1, seed: 7, oversellRate: 0 });
  let s = '';
  for (const t of ledger) s += [t.order_id, t.symbol, t.side, t.size, t.price, t.total_fees_usd, t.order_time].map(copyField).join('\t') + '\n';
  n = await copyFrom(c, 'exp_one', s);
  await c.query('ANALYZE exp_one');
} else if (mode === 'json' || mode === 'json-text') {
  const r = await c.query(`SELECT coalesce(json_agg(json_build_object('orderId', order_id, 'symbol', symbol, 'side', side,
    'size', size::text, 'price', price::text, 'fee', total_fees_usd::text, 'time', ${TO_CHAR}) ${ORDER}), '[]')::text AS trades FROM exp_one`);
  const text = r.rows[0].trades as string;
  console.log(`json text: ${(text.length / 1e6).toFixed(1)} M chars`);
  keep = mode === 'json' ? JSON.parse(text) : text;
  n = mode === 'json' ? (keep as unknown[]).length : 1;
} else if (mode === 'cursor' || mode === 'cursor-keep') {
  // cursor-keep: the chunks are converted and all kept (streaming read, non-streaming engine)
  const all: unknown[] = [];
  await c.query('BEGIN');
  await c.query(`DECLARE rd NO SCROLL CURSOR FOR SELECT order_id, symbol, side, size::text, price::text, total_fees_usd::text, ${TO_CHAR} FROM exp_one ${ORDER}`);
  for (;;) {
    const r = await c.query({ text: 'FETCH 50000 FROM rd', rowMode: 'array' });
    const chunk = (r.rows as string[][]).map((f) => ({ orderId: f[0], symbol: f[1], side: f[2], size: f[3], price: f[4], fee: f[5], time: f[6] }));
    n += chunk.length;
    if (mode === 'cursor-keep') for (const x of chunk) all.push(x);
    if (r.rows.length < 50000) break;
  }
  await c.query('COMMIT');
  keep = all;
}
console.log(`mode ${mode}: ${n} trades in ${(performance.now() - t0).toFixed(0)} ms; peak RSS ${mb()} MB; heapUsed now ${(process.memoryUsage().heapUsed / 1048576).toFixed(0)} MB; kept ${keep === null ? 0 : 1}`);
await c.end();
