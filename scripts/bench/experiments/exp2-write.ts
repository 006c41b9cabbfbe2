/**
 * Issue 11, experiment 2: write formats from a client, batches of 25 symbols (~25,000 rows),
 * the first BATCHES batches of exp_src, into an unindexed table (so the format's own cost
 * shows). Client build time and statement time are reported apart. Formats interleaved,
 * ROUNDS rounds.
 *   DATABASE_URL=.../fifo_exp tsx scripts/bench/experiments/exp2-write.ts [rounds] [batches]
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync, rmSync, chmodSync } from 'node:fs';
import { connect, median, uptime, url } from './lib.ts';
import { copyFrom, copyField } from './copy-in.ts';

const ROUNDS = Number(process.argv[2] ?? 3);
const BATCHES = Number(process.argv[3] ?? 8);
const c = await connect();

interface Row { symbol: string; sellOrderId: string; seq: number; buyOrderId: string | null; allocatedSize: string;
  buyPrice: string | null; sellPrice: string; buyTime: string | null; sellTime: string; buyFee: string | null;
  sellFee: string; costBasis: string | null; proceeds: string; pnl: string | null }
const FIELDS: (keyof Row)[] = ['symbol', 'sellOrderId', 'seq', 'buyOrderId', 'allocatedSize', 'buyPrice', 'sellPrice',
  'buyTime', 'sellTime', 'buyFee', 'sellFee', 'costBasis', 'proceeds', 'pnl'];
const TS = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

const symbols = (await c.query<{ s: string }>('SELECT DISTINCT symbol s FROM exp_src ORDER BY 1')).rows.map((r) => r.s);
const batches: Row[][] = [];
for (let b = 0; b < BATCHES; b++) {
  const { rows } = await c.query<Row>(
    `SELECT symbol, sell_order_id AS "sellOrderId", allocation_seq AS seq, buy_order_id AS "buyOrderId",
            allocated_size::text AS "allocatedSize", buy_price::text AS "buyPrice", sell_price::text AS "sellPrice",
            ${TS('buy_time')} AS "buyTime", ${TS('sell_time')} AS "sellTime", buy_fee_usd::text AS "buyFee",
            sell_fee_usd::text AS "sellFee", cost_basis_usd::text AS "costBasis", proceeds_usd::text AS proceeds, pnl_usd::text AS pnl
       FROM exp_src WHERE symbol = ANY ($1::text[]) ORDER BY symbol, sell_time, sell_order_id, allocation_seq`,
    [symbols.slice(b * 25, b * 25 + 25)]);
  batches.push(rows);
}
const nRows = batches.reduce((a, b) => a + b.length, 0);

const TARGET = 'w_bare';
await c.query(`DROP TABLE IF EXISTS ${TARGET}; CREATE TABLE ${TARGET} (LIKE fifo_allocations INCLUDING DEFAULTS)`);
const INS = `INSERT INTO ${TARGET} (allocation_version, symbol, sell_order_id, allocation_seq, buy_order_id,
  allocated_size, buy_price, sell_price, buy_time, sell_time, buy_fee_usd, sell_fee_usd, cost_basis_usd, proceeds_usd, pnl_usd, computation_id)`;

const COPY_COLS = `allocation_version, symbol, sell_order_id, allocation_seq, buy_order_id, allocated_size, buy_price, sell_price,
  buy_time, sell_time, buy_fee_usd, sell_fee_usd, cost_basis_usd, proceeds_usd, pnl_usd, computation_id`;
const linesOf = (rows: Row[]) => {
  let s = '';
  for (const r of rows) {
    s += '1';
    for (const f of FIELDS) s += '\t' + copyField(r[f]);
    s += '\t1\n';
  }
  return s;
};

const ESC = /[\\\t\n\r]/;
const esc = (v: string) => (ESC.test(v) ? copyField(v) : v);
const nn = (v: string | null) => (v === null ? '\\N' : v);
const fastLines = (rows: Row[]) => {
  let s = '';
  for (const r of rows) s += `1\t${esc(r.symbol)}\t${esc(r.sellOrderId)}\t${r.seq}\t${r.buyOrderId === null ? '\\N' : esc(r.buyOrderId)}\t${r.allocatedSize}\t${nn(r.buyPrice)}\t${r.sellPrice}\t${nn(r.buyTime)}\t${r.sellTime}\t${nn(r.buyFee)}\t${r.sellFee}\t${nn(r.costBasis)}\t${r.proceeds}\t${nn(r.pnl)}\t1\n`;
  return s;
};
type Format = { name: string; write: (rows: Row[]) => Promise<{ buildMs: number; sqlMs: number }> };
const tq = async (text: string, params: unknown[]) => { const t = performance.now(); await c.query(text, params); return performance.now() - t; };
const ALL_FORMATS: Format[] = [
  { name: 'JSON text -> json_to_recordset (today)', write: async (rows) => {
    const t0 = performance.now(); const doc = JSON.stringify(rows); const buildMs = performance.now() - t0;
    const sqlMs = await tq(`${INS} SELECT $1, r.symbol, r."sellOrderId", r.seq, r."buyOrderId", r."allocatedSize", r."buyPrice", r."sellPrice",
            r."buyTime", r."sellTime", r."buyFee", r."sellFee", r."costBasis", r.proceeds, r.pnl, $3
       FROM json_to_recordset($2::json) AS r(symbol text, "sellOrderId" text, seq int, "buyOrderId" text,
            "allocatedSize" numeric, "buyPrice" numeric, "sellPrice" numeric, "buyTime" timestamptz,
            "sellTime" timestamptz, "buyFee" numeric, "sellFee" numeric, "costBasis" numeric,
            proceeds numeric, pnl numeric)`, [1, doc, 1]);
    return { buildMs, sqlMs };
  } },
  { name: 'arrays per column -> unnest($n::type[])', write: async (rows) => {
    const t0 = performance.now();
    const cols = FIELDS.map((f) => rows.map((r) => r[f]));
    const buildMs = performance.now() - t0; // pg turns the arrays into array literals inside query(): counted in sqlMs
    const sqlMs = await tq(`${INS} SELECT 1, u.* , 1 FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::numeric[], $6::numeric[],
         $7::numeric[], $8::timestamptz[], $9::timestamptz[], $10::numeric[], $11::numeric[], $12::numeric[], $13::numeric[], $14::numeric[]) u`, cols);
    return { buildMs, sqlMs };
  } },
  { name: 'arrays per column, literals built by hand (1 text each)', write: async (rows) => {
    // what a host can send when it encodes the arrays itself: '{a,b,NULL}' with no quoting
    // (values here never hold , { } " \ or spaces)
    const t0 = performance.now();
    const cols = FIELDS.map((f) => '{' + rows.map((r) => (r[f] === null ? 'NULL' : String(r[f]))).join(',') + '}');
    const buildMs = performance.now() - t0;
    const sqlMs = await tq(`${INS} SELECT 1, u.* , 1 FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::numeric[], $6::numeric[],
         $7::numeric[], $8::timestamptz[], $9::timestamptz[], $10::numeric[], $11::numeric[], $12::numeric[], $13::numeric[], $14::numeric[]) u`, cols);
    return { buildMs, sqlMs };
  } },
  { name: 'one text per column (joined by \\n) -> unnest(string_to_array)', write: async (rows) => {
    // no quoting rules at all: only a newline in a value would need escaping (ids: checked)
    const t0 = performance.now();
    const cols = FIELDS.map((f) => rows.map((r) => (r[f] === null ? '\\N' : String(r[f]))).join('\n'));
    const buildMs = performance.now() - t0;
    const a = (i: number, t: string) => `string_to_array($${i}, E'\\n', '\\N')::${t}[]`;
    const sqlMs = await tq(`${INS} SELECT 1, u.* , 1 FROM unnest(${a(1, 'text')}, ${a(2, 'text')}, ${a(3, 'int')}, ${a(4, 'text')}, ${a(5, 'numeric')}, ${a(6, 'numeric')},
         ${a(7, 'numeric')}, ${a(8, 'timestamptz')}, ${a(9, 'timestamptz')}, ${a(10, 'numeric')}, ${a(11, 'numeric')}, ${a(12, 'numeric')}, ${a(13, 'numeric')}, ${a(14, 'numeric')}) u`, cols);
    return { buildMs, sqlMs };
  } },
  { name: 'COPY FROM STDIN, template builder (only ids escaped)', write: async (rows) => {
    const t0 = performance.now(); const text = fastLines(rows); const buildMs = performance.now() - t0;
    const t1 = performance.now();
    const n = await copyFrom(c, TARGET, text, COPY_COLS);
    if (n !== rows.length) throw new Error(`COPY wrote ${n} of ${rows.length}`);
    return { buildMs, sqlMs: performance.now() - t1 };
  } },
  { name: 'one text of lines -> string_to_table + string_to_array', write: async (rows) => {
    const t0 = performance.now(); const text = linesOf(rows); const buildMs = performance.now() - t0;
    const sqlMs = await tq(`${INS} SELECT 1, f[2], f[3], f[4]::int, nullif(f[5], '\\N'), f[6]::numeric, nullif(f[7], '\\N')::numeric,
         f[8]::numeric, nullif(f[9], '\\N')::timestamptz, f[10]::timestamptz, nullif(f[11], '\\N')::numeric, f[12]::numeric,
         nullif(f[13], '\\N')::numeric, f[14]::numeric, nullif(f[15], '\\N')::numeric, 1
       FROM string_to_table($1, E'\\n') l, LATERAL string_to_array(l, E'\\t') f WHERE l <> ''`, [text]);
    return { buildMs, sqlMs };
  } },
  { name: 'one text of lines -> string_to_table + split_part', write: async (rows) => {
    const t0 = performance.now(); const text = linesOf(rows); const buildMs = performance.now() - t0;
    const sp = (i: number) => `split_part(l, E'\\t', ${i})`;
    const sqlMs = await tq(`${INS} SELECT 1, ${sp(2)}, ${sp(3)}, ${sp(4)}::int, nullif(${sp(5)}, '\\N'), ${sp(6)}::numeric, nullif(${sp(7)}, '\\N')::numeric,
         ${sp(8)}::numeric, nullif(${sp(9)}, '\\N')::timestamptz, ${sp(10)}::timestamptz, nullif(${sp(11)}, '\\N')::numeric, ${sp(12)}::numeric,
         nullif(${sp(13)}, '\\N')::numeric, ${sp(14)}::numeric, nullif(${sp(15)}, '\\N')::numeric, 1
       FROM string_to_table($1, E'\\n') l WHERE l <> ''`, [text]);
    return { buildMs, sqlMs };
  } },
  { name: 'COPY FROM STDIN (pg submittable, no new dependency)', write: async (rows) => {
    const t0 = performance.now(); const text = linesOf(rows); const buildMs = performance.now() - t0;
    const t1 = performance.now();
    const n = await copyFrom(c, TARGET, text, COPY_COLS);
    if (n !== rows.length) throw new Error(`COPY wrote ${n} of ${rows.length}`);
    return { buildMs, sqlMs: performance.now() - t1 };
  } },
];

// FORMATS=substring,substring picks some formats
const pick = process.env.FORMATS?.split(',');
const formats = pick ? ALL_FORMATS.filter((f) => pick.some((p) => f.name.includes(p))) : ALL_FORMATS;

// psql \copy of the same rows from a file, for the number only
const file = '/tmp/exp2-rows.copy';
writeFileSync(file, batches.map(linesOf).join(''));
chmodSync(file, 0o644);
const psqlCopy = () => {
  const t0 = performance.now();
  const r = spawnSync('psql', [url, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-c', `\\copy ${TARGET} (${COPY_COLS.replace(/\s+/g, ' ')}) FROM '${file}'`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return performance.now() - t0;
};

console.log(`# exp2: ${nRows} rows in ${BATCHES} batches, into ${TARGET} (no index); loadavg ${await uptime()}`);
const res = new Map<string, { build: number[]; sql: number[] }>();
const bareSelect: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  for (let i = 0; i < formats.length + 2; i++) {
    const k = (i + r * 2) % (formats.length + 2);
    await c.query(`TRUNCATE ${TARGET}`);
    let build = 0, sql = 0, name: string;
    if (k === formats.length) {
      name = 'psql \\copy from a file (number only)'; sql = psqlCopy();
    } else if (k === formats.length + 1) {
      name = 'floor: INSERT ... SELECT from exp_src (server only)';
      sql = await tq(`${INS} SELECT 1, symbol, sell_order_id, allocation_seq, buy_order_id, allocated_size, buy_price, sell_price, buy_time,
          sell_time, buy_fee_usd, sell_fee_usd, cost_basis_usd, proceeds_usd, pnl_usd, 1 FROM exp_src WHERE symbol = ANY ($1::text[])`,
        [symbols.slice(0, BATCHES * 25)]);
    } else {
      const f = formats[k]!; name = f.name;
      for (const b of batches) { const t = await f.write(b); build += t.buildMs; sql += t.sqlMs; }
    }
    const n = Number((await c.query(`SELECT count(*) n FROM ${TARGET}`)).rows[0].n);
    if (n !== nRows) throw new Error(`${name}: ${n} rows, expected ${nRows}`);
    const e = res.get(name) ?? { build: [], sql: [] }; res.set(name, e); e.build.push(build); e.sql.push(sql);
    console.log(`round ${r + 1} | ${name} | build ${build.toFixed(0)} ms | statement ${sql.toFixed(0)} ms | total ${(build + sql).toFixed(0)} ms`);
  }
}
// all rows are the same: check one format's result against exp_src
console.log(`\n# medians over ${ROUNDS} rounds, ${nRows} rows (ms); loadavg ${await uptime()}`);
const floor = median(res.get('floor: INSERT ... SELECT from exp_src (server only)')!.sql);
for (const [name, e] of res) {
  const tot = median(e.build.map((b, i) => b + e.sql[i]!));
  console.log(`${name.padEnd(58)} build ${median(e.build).toFixed(0).padStart(5)}  statement ${median(e.sql).toFixed(0).padStart(5)}  total ${tot.toFixed(0).padStart(5)}  ${(tot / floor).toFixed(2)}x floor  ${(tot / nRows * 1e6 / 1000).toFixed(2)} s per 1M rows`);
}
await c.query(`DROP TABLE ${TARGET}`);
rmSync(file);
await c.end();
