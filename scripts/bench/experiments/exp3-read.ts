/**
 * Issue 11, experiment 3: read formats for the engine's trades (TradeInput objects), batches
 * of 25 symbols from trade_records, the first BATCHES batches; every value travels as text
 * (as the Node host's worker reads it). Formats interleaved, ROUNDS rounds. Then the server
 * cost alone of the time formats over the whole ledger.
 *   DATABASE_URL=.../fifo_exp tsx scripts/bench/experiments/exp3-read.ts [rounds] [batches]
 */
import pg from 'pg';
import { parseArrayText } from '../../../packages/plv8/src/host/convert.ts';
import { median, uptime, url } from './lib.ts';

const ROUNDS = Number(process.argv[2] ?? 3);
const BATCHES = Number(process.argv[3] ?? 12);
const c = new pg.Client({ connectionString: url, types: { getTypeParser: () => (v: string) => v } as never });
await c.connect();
await c.query(`SET TimeZone = 'UTC'`);

interface Trade { orderId: string; symbol: string; side: string; size: string; price: string; fee: string; time: string }
const ORDER = `ORDER BY symbol, order_time, side = 'sell', order_id COLLATE "C"`;
const TO_CHAR = `to_char(order_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
const EPOCH_US = `(extract(epoch FROM order_time) * 1000000)::bigint::text`;
const symbols = (await c.query('SELECT DISTINCT symbol s FROM trade_records ORDER BY 1')).rows.map((r) => r.s as string);
const batchSyms = Array.from({ length: BATCHES }, (_, b) => symbols.slice(b * 25, b * 25 + 25));

const jsonSql = (time: string) => `SELECT coalesce(json_agg(json_build_object('orderId', order_id, 'symbol', symbol, 'side', side,
  'size', size::text, 'price', price::text, 'fee', total_fees_usd::text, 'time', ${time}) ${ORDER}), '[]')::text AS trades
  FROM trade_records WHERE symbol = ANY ($1::text[])`;
const fromCols = (cols: string[][]): Trade[] => {
  const [id, sym, side, size, price, fee, time] = cols as [string[], string[], string[], string[], string[], string[], string[]];
  const out: Trade[] = new Array(id.length);
  for (let i = 0; i < id.length; i++) out[i] = { orderId: id[i]!, symbol: sym[i]!, side: side[i]!, size: size[i]!, price: price[i]!, fee: fee[i]!, time: time[i]! };
  return out;
};
const arraySql = `SELECT array_agg(order_id ${ORDER}), array_agg(symbol ${ORDER}), array_agg(side ${ORDER}), array_agg(size::text ${ORDER}),
  array_agg(price::text ${ORDER}), array_agg(total_fees_usd::text ${ORDER}), array_agg(${TO_CHAR} ${ORDER})
  FROM trade_records WHERE symbol = ANY ($1::text[])`;
const fastSplit = (t: string) => t.slice(1, -1).split(','); // only for elements that need no quoting

type Reader = { name: string; read: (syms: string[]) => Promise<Trade[]> };
const readers: Reader[] = [
  { name: 'json_agg(json_build_object) + to_char (today)', read: async (s) =>
      JSON.parse((await c.query(jsonSql(TO_CHAR), [s])).rows[0].trades) },
  { name: 'json_agg(json_build_object) + epoch us text', read: async (s) =>
      JSON.parse((await c.query(jsonSql(EPOCH_US), [s])).rows[0].trades) },
  { name: 'array_agg per column + host parseArrayText', read: async (s) => {
      const r = (await c.query({ text: arraySql, values: [s], rowMode: 'array' })).rows[0] as string[];
      return fromCols(r.map((t) => parseArrayText(t) as string[]));
    } },
  { name: 'array_agg per column + split(",") (no quoting)', read: async (s) => {
      const r = (await c.query({ text: arraySql, values: [s], rowMode: 'array' })).rows[0] as string[];
      return fromCols(r.map(fastSplit));
    } },
  { name: 'string_agg of tab lines + split', read: async (s) => {
      const t = (await c.query(`SELECT string_agg(concat_ws(E'\\t', order_id, symbol, side, size, price, total_fees_usd, ${TO_CHAR}), E'\\n' ${ORDER}) t
         FROM trade_records WHERE symbol = ANY ($1::text[])`, [s])).rows[0].t as string;
      const lines = t.split('\n'); const out: Trade[] = new Array(lines.length);
      for (let i = 0; i < lines.length; i++) {
        const f = lines[i]!.split('\t');
        out[i] = { orderId: f[0]!, symbol: f[1]!, side: f[2]!, size: f[3]!, price: f[4]!, fee: f[5]!, time: f[6]! };
      }
      return out;
    } },
  ...[['to_char', TO_CHAR], ['epoch us', EPOCH_US], ['::text (UTC)', 'order_time::text']].map(([label, time]) => ({
    name: `rows through a cursor, FETCH 10000, ${label}`, read: async (s: string[]) => {
      await c.query('BEGIN');
      await c.query({ text: `DECLARE rd NO SCROLL CURSOR FOR SELECT order_id, symbol, side, size::text, price::text, total_fees_usd::text, ${time}
          FROM trade_records WHERE symbol = ANY ('${'{' + s.join(',') + '}'}'::text[]) ${ORDER}` });
      const out: Trade[] = [];
      for (;;) {
        const r = await c.query({ text: 'FETCH 10000 FROM rd', rowMode: 'array' });
        for (const f of r.rows as string[][]) out.push({ orderId: f[0]!, symbol: f[1]!, side: f[2]!, size: f[3]!, price: f[4]!, fee: f[5]!, time: f[6]! });
        if (r.rows.length < 10000) break;
      }
      await c.query('COMMIT');
      return out;
    } })),
];

console.log(`# exp3 read: ${BATCHES} batches of 25 symbols; loadavg ${await uptime()}`);
const res = new Map<string, number[]>();
let expected = -1;
for (let r = 0; r < ROUNDS; r++) {
  for (let i = 0; i < readers.length; i++) {
    const rd = readers[(i + r * 3) % readers.length]!;
    const t0 = performance.now();
    let n = 0;
    for (const s of batchSyms) n += (await rd.read(s)).length;
    const ms = performance.now() - t0;
    if (expected < 0) expected = n; else if (n !== expected) throw new Error(`${rd.name}: ${n} trades, expected ${expected}`);
    (res.get(rd.name) ?? res.set(rd.name, []).get(rd.name)!).push(ms);
    console.log(`round ${r + 1} | ${rd.name} | ${ms.toFixed(0)} ms`);
  }
}
console.log(`\n# medians over ${ROUNDS} rounds, ${expected} trades (ms); loadavg ${await uptime()}`);
const base = median(res.get(readers[0]!.name)!);
for (const [name, xs] of res) console.log(`${name.padEnd(50)} ${median(xs).toFixed(0).padStart(6)} ms  ${(median(xs) / base).toFixed(2)}x today  ${(median(xs) / expected * 1e3).toFixed(2)} s per 1M trades`);

// server only: the time formats over the whole ledger (sum(length) forces evaluation)
console.log(`\n# server only, 1M rows, sum(length(<expr>)) FROM trade_records, medians of ${ROUNDS}`);
const exprs: [string, string][] = [['nothing (order_id only)', 'order_id'], ['to_char(... "YYYY-MM-DD\\"T\\"HH24:MI:SS.US\\"Z\\"")', TO_CHAR],
  ['(extract(epoch) * 1e6)::bigint::text', EPOCH_US], ['order_time::text (TimeZone UTC)', 'order_time::text'],
  ['json_build_object(7 fields, to_char)::text', `json_build_object('orderId', order_id, 'symbol', symbol, 'side', side, 'size', size::text, 'price', price::text, 'fee', total_fees_usd::text, 'time', ${TO_CHAR})::text`],
  ['concat_ws(tab, 7 fields, to_char)', `concat_ws(E'\\t', order_id, symbol, side, size, price, total_fees_usd, ${TO_CHAR})`]];
const srv = new Map<string, number[]>();
for (let r = 0; r < ROUNDS; r++) for (const [label, e] of exprs) {
  const t0 = performance.now();
  await c.query(`SELECT sum(length(${e})) FROM trade_records`);
  (srv.get(label) ?? srv.set(label, []).get(label)!).push(performance.now() - t0);
}
for (const [label, xs] of srv) console.log(`${label.padEnd(55)} ${median(xs).toFixed(0).padStart(6)} ms`);
await c.end();
