/**
 * Issue 11, experiment 5: a full recompute's I/O end to end, without the engine (its output
 * rows are preloaded from exp_src), 40 batches of 25 symbols, one connection, interleaved:
 *  floor    — the whole ledger sorted through a cursor + INSERT ... SELECT into a bare table
 *  proposed — per batch: the trades as rows through a cursor, the rows as COPY text into an
 *             unindexed stage table; then PK (+ the small unmatched index), CHECK, ANALYZE,
 *             and a partition swap (DETACH old + ATTACH new in one transaction, DROP old)
 *  proposed+3idx — the same with today's three extra indexes built after the load
 *  today    — per batch: json_agg read + JSON.parse, DELETE old rows, JSON.stringify ->
 *             json_to_recordset into today's table shape (FK, PK, 3 idx, CHECKs) holding the old rows
 *   NODE_OPTIONS=--max-old-space-size=3000 DATABASE_URL=.../fifo_exp tsx exp5-pipeline.ts [rounds]
 */
import pg from 'pg';
import { copyFrom } from './copy-in.ts';
import { median, uptime, url, COLS, SRC_SELECT } from './lib.ts';

const ROUNDS = Number(process.argv[2] ?? 2);
const c = new pg.Client({ connectionString: url, types: { getTypeParser: () => (v: string) => v } as never });
await c.connect();
await c.query(`SET TimeZone = 'UTC'`);
const TS = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
const ORDER = `ORDER BY symbol, order_time, side = 'sell', order_id COLLATE "C"`;
interface Row { symbol: string; sellOrderId: string; seq: string; buyOrderId: string | null; allocatedSize: string;
  buyPrice: string | null; sellPrice: string; buyTime: string | null; sellTime: string; buyFee: string | null;
  sellFee: string; costBasis: string | null; proceeds: string; pnl: string | null }
const symbols = (await c.query('SELECT DISTINCT symbol s FROM trade_records ORDER BY 1')).rows.map((r) => r.s as string);
const batchSyms: string[][] = [];
for (let i = 0; i < symbols.length; i += 25) batchSyms.push(symbols.slice(i, i + 25));
const out: Row[][] = [];
for (const s of batchSyms) {
  out.push((await c.query<Row>(`SELECT symbol, sell_order_id AS "sellOrderId", allocation_seq AS seq, buy_order_id AS "buyOrderId",
      allocated_size::text AS "allocatedSize", buy_price::text AS "buyPrice", sell_price::text AS "sellPrice",
      ${TS('buy_time')} AS "buyTime", ${TS('sell_time')} AS "sellTime", buy_fee_usd::text AS "buyFee",
      sell_fee_usd::text AS "sellFee", cost_basis_usd::text AS "costBasis", proceeds_usd::text AS proceeds, pnl_usd::text AS pnl
     FROM exp_src WHERE symbol = ANY ($1::text[]) ORDER BY symbol, sell_time, sell_order_id, allocation_seq`, [s])).rows);
}
const total = out.reduce((a, b) => a + b.length, 0);

const ESC = /[\\\t\n\r]/;
const esc = (s: string) => (ESC.test(s) ? s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r') : s);
const n = (v: string | null) => (v === null ? '\\N' : v);
const copyText = (rows: Row[]) => {
  let s = '';
  for (const r of rows) s += `2\t${esc(r.symbol)}\t${esc(r.sellOrderId)}\t${r.seq}\t${r.buyOrderId === null ? '\\N' : esc(r.buyOrderId)}\t${r.allocatedSize}\t${n(r.buyPrice)}\t${r.sellPrice}\t${n(r.buyTime)}\t${r.sellTime}\t${n(r.buyFee)}\t${r.sellFee}\t${n(r.costBasis)}\t${r.proceeds}\t${n(r.pnl)}\t1\n`;
  return s;
};
const IDX3 = (t: string) => [`CREATE INDEX ON ${t} (allocation_version, symbol, buy_order_id) WHERE buy_order_id IS NOT NULL`,
  `CREATE INDEX ON ${t} (allocation_version, sell_time)`];
const UNM = (t: string) => `CREATE INDEX ON ${t} (allocation_version, symbol) WHERE buy_order_id IS NULL`;
const PK = (t: string) => `ALTER TABLE ${t} ADD PRIMARY KEY (allocation_version, symbol, sell_order_id, allocation_seq)`;

async function readCursor(s: string[] | null, fetch: number): Promise<number> {
  await c.query('BEGIN');
  await c.query(`DECLARE rd NO SCROLL CURSOR FOR SELECT order_id, symbol, side, size::text, price::text, total_fees_usd::text, ${TS('order_time')}
      FROM trade_records ${s ? `WHERE symbol = ANY ('{${s.join(',')}}'::text[])` : ''} ${ORDER}`);
  let k = 0;
  for (;;) {
    const r = await c.query({ text: `FETCH ${fetch} FROM rd`, rowMode: 'array' });
    for (const f of r.rows as string[][]) { const t = { orderId: f[0], symbol: f[1], side: f[2], size: f[3], price: f[4], fee: f[5], time: f[6] }; if (t.orderId) k++; }
    if (r.rows.length < fetch) break;
  }
  await c.query('COMMIT');
  return k;
}

type Parts = Record<string, number>;
const clock = async (p: Parts, k: string, f: () => Promise<unknown>) => { const t = performance.now(); await f(); p[k] = (p[k] ?? 0) + performance.now() - t; };
const DROP = `DROP TABLE IF EXISTS x_bare, x_today, x_part, x_part_old, x_part_new CASCADE`;
const PARENT = [`CREATE TABLE x_part (LIKE fifo_allocations INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY LIST (allocation_version)`,
  PK('x_part'), UNM('x_part')];

const variants: Record<string, { setup: () => Promise<void>; run: (p: Parts) => Promise<void> }> = {
  floor: { setup: async () => { await c.query('CREATE TABLE x_bare (LIKE fifo_allocations INCLUDING DEFAULTS)'); },
    run: async (p) => {
      await clock(p, 'read (cursor, whole ledger)', () => readCursor(null, 50000));
      await clock(p, 'bare INSERT ... SELECT', () => c.query(`INSERT INTO x_bare (${COLS}) ${SRC_SELECT}`));
    } },
  ...Object.fromEntries([false, true].map((idx3) => [idx3 ? 'proposed+3idx' : 'proposed', {
    setup: async () => {
      for (const s of [...PARENT, ...(idx3 ? IDX3('x_part') : [])]) await c.query(s);
      await c.query(`CREATE TABLE x_part_old (LIKE fifo_allocations INCLUDING DEFAULTS INCLUDING CONSTRAINTS); INSERT INTO x_part_old (${COLS}) ${SRC_SELECT};
        ALTER TABLE x_part ATTACH PARTITION x_part_old FOR VALUES IN (2)`);
    },
    run: async (p: Parts) => {
      await c.query(`CREATE TABLE x_part_new (LIKE fifo_allocations INCLUDING DEFAULTS INCLUDING CONSTRAINTS) WITH (autovacuum_enabled = off)`);
      for (let b = 0; b < batchSyms.length; b++) {
        await clock(p, 'read (cursor per batch)', () => readCursor(batchSyms[b]!, 10000));
        let text = '';
        await clock(p, 'build COPY text', async () => { text = copyText(out[b]!); });
        await clock(p, 'COPY into stage', () => copyFrom(c, 'x_part_new', text, COLS));
      }
      await clock(p, 'PK + unmatched idx', async () => { await c.query(PK('x_part_new')); await c.query(UNM('x_part_new')); });
      if (idx3) await clock(p, 'buy + sell_time idx', async () => { for (const s of IDX3('x_part_new')) await c.query(s); });
      await clock(p, 'CHECK + ANALYZE', () => c.query(`ALTER TABLE x_part_new ADD CHECK (allocation_version = 2); ANALYZE x_part_new`));
      await clock(p, 'swap + DROP old', () => c.query(`BEGIN; ALTER TABLE x_part DETACH PARTITION x_part_old;
          ALTER TABLE x_part ATTACH PARTITION x_part_new FOR VALUES IN (2); COMMIT; DROP TABLE x_part_old`));
    } }])),
  today: {
    setup: async () => {
      await c.query(`CREATE TABLE x_today (LIKE fifo_allocations INCLUDING ALL);
        ALTER TABLE x_today ADD FOREIGN KEY (allocation_version) REFERENCES fifo_allocation_versions ON DELETE CASCADE;
        INSERT INTO x_today (${COLS}) ${SRC_SELECT}`);
    },
    run: async (p) => {
      for (let b = 0; b < batchSyms.length; b++) {
        await clock(p, 'read (json_agg + JSON.parse)', async () => JSON.parse((await c.query(`SELECT coalesce(json_agg(json_build_object('orderId', order_id, 'symbol', symbol, 'side', side,
          'size', size::text, 'price', price::text, 'fee', total_fees_usd::text, 'time', ${TS('order_time')}) ${ORDER}), '[]')::text AS trades
          FROM trade_records WHERE symbol = ANY ($1::text[])`, [batchSyms[b]])).rows[0].trades));
        await clock(p, 'DELETE old rows', () => c.query('DELETE FROM x_today WHERE allocation_version = 2 AND symbol = ANY ($1::text[])', [batchSyms[b]]));
        let doc = '';
        await clock(p, 'JSON.stringify', async () => { doc = JSON.stringify(out[b]); });
        await clock(p, 'INSERT json_to_recordset', () => c.query(`INSERT INTO x_today (${COLS})
          SELECT 2, r.symbol, r."sellOrderId", r.seq, r."buyOrderId", r."allocatedSize", r."buyPrice", r."sellPrice",
            r."buyTime", r."sellTime", r."buyFee", r."sellFee", r."costBasis", r.proceeds, r.pnl, 1
          FROM json_to_recordset($1::json) AS r(symbol text, "sellOrderId" text, seq int, "buyOrderId" text,
            "allocatedSize" numeric, "buyPrice" numeric, "sellPrice" numeric, "buyTime" timestamptz,
            "sellTime" timestamptz, "buyFee" numeric, "sellFee" numeric, "costBasis" numeric, proceeds numeric, pnl numeric)`, [doc]));
      }
    } },
};

console.log(`# exp5: ${total} allocation rows, ${batchSyms.length} batches; loadavg ${await uptime()}`);
const res = new Map<string, { total: number[]; parts: Map<string, number[]> }>();
const names = Object.keys(variants);
for (let r = 0; r < ROUNDS; r++) {
  for (let i = 0; i < names.length; i++) {
    const name = names[(i + r) % names.length]!;
    await c.query(DROP); await c.query('CHECKPOINT');
    await variants[name]!.setup();
    await c.query('CHECKPOINT');
    const p: Parts = {};
    const t0 = performance.now();
    await variants[name]!.run(p);
    const ms = performance.now() - t0;
    const e = res.get(name) ?? { total: [] as number[], parts: new Map<string, number[]>() }; res.set(name, e); e.total.push(ms);
    for (const [k, v] of Object.entries(p)) (e.parts.get(k) ?? e.parts.set(k, []).get(k)!).push(v);
    console.log(`round ${r + 1} | ${name} | ${(ms / 1000).toFixed(2)} s | ${Object.entries(p).map(([k, v]) => `${k} ${(v / 1000).toFixed(2)}`).join('; ')} | load ${await uptime()}`);
  }
}
await c.query(DROP);
const floor = median(res.get('floor')!.total);
console.log(`\n# medians over ${ROUNDS} rounds (s); loadavg ${await uptime()}`);
for (const [name, e] of res) console.log(`${name.padEnd(14)} ${(median(e.total) / 1000).toFixed(2).padStart(6)} s  ${(median(e.total) / floor).toFixed(2)}x floor | ${[...e.parts].map(([k, v]) => `${k} ${(median(v) / 1000).toFixed(2)}`).join('; ')}`);
await c.end();
