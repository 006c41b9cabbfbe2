/**
 * `pnpm bench [trades] [symbols]` (issue 7): one run, one database, one printed table.
 *
 *  1. A generated ledger (default 1,000,000 trades over 1,000 symbols, no sell ever exceeds
 *     the inventory), loaded by COPY into a fresh database `fifo_bench_all`.
 *  2. Two SQL baselines (scripts/bench/baselines/): a PL/pgSQL loop with a lot queue and a
 *     set-based FIFO over cumulative quantity ranges. Each writes its own allocation
 *     version and is compared row for row (every money column) with ours before its time
 *     counts.
 *  3. Ours: full compute in the Node host (a child process, as `fifo compute --force`, so
 *     its peak RSS is the runner's own), in-database PLV8 where installed, the symbols split
 *     over 2 connections (what `--concurrency 2` will do), and incremental runs after 100
 *     new trades over 10 symbols (in-process, as `fifo watch` runs them).
 *  4. The floor: reading the ledger sorted, and a plain INSERT ... SELECT of as many
 *     allocation rows.
 *
 * Prints times and ratios; asserts nothing. The machine may be shared: compare within one
 * run. Set FIFO_BENCH_KEEP=1 to keep the database afterwards.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import pg from 'pg';
import { startCluster } from '../../packages/cli/src/db/cluster.ts';
import { migrate } from '../../packages/cli/src/db/migrate.ts';
import { runCompute } from '../../packages/cli/src/compute/run-compute.ts';
import { openProcedureSession } from '../../packages/cli/src/compute/sessions.ts';
import { plv8ProceduresInstalled } from '../../packages/cli/src/compute/procedure-host.ts';
import { symbolName } from '../../packages/cli/src/sample/ledger-generator.ts';
import { insertTrades } from '../../packages/cli/src/sample/load-ledger.ts';
import { compareVersions, type Comparison } from './lib/compare.ts';
import type { ChildReport } from './lib/compute-child.ts';
import { loadLedger } from './lib/ledger.ts';
import { describeMachine } from './lib/machine.ts';
import { computeInChild } from './lib/spawn-compute.ts';

const TRADES = Number(process.argv[2] ?? 1_000_000);
const SYMBOLS = Number(process.argv[3] ?? 1_000);
const DB = 'fifo_bench_all';
const OURS = 1;
const V_PLPGSQL = 101;
const V_SET = 102;
const V_FLOOR = 100;
const BASELINES = resolve(import.meta.dirname, 'baselines');

const benchStart = performance.now();
const log = (msg: string) => console.error(`[${((performance.now() - benchStart) / 1000).toFixed(0).padStart(4)} s] ${msg}`);
const time = async <T>(f: () => Promise<T>): Promise<[T, number]> => {
  const t0 = performance.now();
  const r = await f();
  return [r, performance.now() - t0];
};
const sec = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
const int = (n: number) => n.toLocaleString('en-US');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Line {
  name: string;
  ms: number | null;
  note: string;
}

async function readLedgerSorted(client: pg.Client): Promise<number> {
  // Through a cursor, 50,000 rows a fetch: the whole ledger crosses the wire, sorted in
  // processing order, without the bench holding it all. cursor_tuple_fraction = 1: plan
  // for reading every row, as a compute does.
  await client.query('BEGIN');
  await client.query('SET LOCAL cursor_tuple_fraction = 1');
  await client.query(
    `DECLARE bench_ledger NO SCROLL CURSOR FOR
       SELECT order_id, symbol, side, size::text, price::text, total_fees_usd::text, order_time::text
         FROM trade_records ORDER BY symbol, order_time, side = 'sell', order_id COLLATE "C"`);
  let n = 0;
  for (;;) {
    const r = await client.query({ text: 'FETCH 50000 FROM bench_ledger', rowMode: 'array' });
    n += r.rowCount ?? 0;
    if ((r.rowCount ?? 0) === 0) break;
  }
  await client.query('COMMIT');
  return n;
}

function phaseNote(r: ChildReport): string {
  const t = r.timings;
  const other = Math.max(0, r.ms - t.readMs - t.allocateMs - t.writeMs);
  return `${int(r.allocations)} rows, ${t.batches} batches; read ${sec(t.readMs)}, allocate ${sec(t.allocateMs)}, ` +
    `write ${sec(t.writeMs)}, other ${sec(other)}; peak RSS ${r.maxRssMB.toFixed(0)} MB`;
}

async function main(): Promise<void> {
  const base = process.env.DATABASE_URL || (await startCluster()).url;
  const server = base.replace(/\/[^/?]*(\?.*)?$/, '');
  const admin = new pg.Client({ connectionString: `${server}/postgres` });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${DB}`);
  const url = `${server}/${DB}`;
  await migrate({ url, direction: 'up' });
  const client = new pg.Client({ connectionString: url, application_name: 'fifo-ledger bench' });
  await client.connect();
  const machine = await describeMachine(client);
  const lines: Line[] = [];

  // 1. the ledger
  log(`generating ${int(TRADES)} trades over ${int(SYMBOLS)} symbols and loading them by COPY ...`);
  const load = await loadLedger(client, url, TRADES, SYMBOLS, 7);
  log(`loaded in ${sec(load.copyMs)} via ${load.via}; VACUUM ANALYZE ...`);
  await client.query('VACUUM ANALYZE trade_records');

  // 4a. floor: the ledger read sorted
  log('floor: reading the ledger sorted ...');
  const [readRows, readMs] = await time(() => readLedgerSorted(client));

  // 3. ours, full, Node host, one connection (a child process: the runner's own memory)
  log('ours: full compute, Node host, 1 connection ...');
  const full = await computeInChild({ url, version: OURS, host: 'client', symbols: null });
  if (full.status !== 'success') throw new Error(`full compute failed: ${JSON.stringify(full)}`);
  const allocations = full.allocations;

  let plv8: ChildReport | null = null;
  if (await plv8ProceduresInstalled(client)) {
    log('ours: full compute in-database (PLV8) ...');
    plv8 = await computeInChild({ url, version: OURS, host: 'plv8', symbols: null });
  }

  // 3b. two connections: disjoint halves of the symbols, two runners at once
  log('ours: full compute, symbols split over 2 connections ...');
  const half = Math.ceil(load.symbolNames.length / 2);
  const pair = await Promise.all([
    computeInChild({ url, version: OURS, host: 'client', symbols: load.symbolNames.slice(0, half) }),
    computeInChild({ url, version: OURS, host: 'client', symbols: load.symbolNames.slice(half) }),
  ]);
  const pairMs = Math.max(...pair.map((p) => p.finishedAt)) - Math.min(...pair.map((p) => p.startedAt));
  const pairOk = pair.every((p) => p.status === 'success') && pair[0]!.allocations + pair[1]!.allocations === allocations;

  // 2. baselines
  await client.query(
    `INSERT INTO fifo_allocation_versions (allocation_version, method, description) VALUES
       ($1, 'fifo', 'bench baseline: PL/pgSQL loop'), ($2, 'fifo', 'bench baseline: set-based'), ($3, 'fifo', 'bench floor')`,
    [V_PLPGSQL, V_SET, V_FLOOR]);
  for (const f of readdirSync(BASELINES).filter((n) => n.endsWith('.sql')).sort()) {
    await client.query(readFileSync(resolve(BASELINES, f), 'utf8'));
  }
  const baselines: Array<{ name: string; fn: string; version: number; ms: number; rows: number; cmp: Comparison }> = [];
  for (const [name, fn, version] of [
    ['baseline 1: PL/pgSQL loop with a lot queue', 'bench_fifo_plpgsql', V_PLPGSQL],
    ['baseline 2: set-based, cumulative ranges', 'bench_fifo_set_based', V_SET],
  ] as const) {
    log(`${name} ...`);
    const [r, ms] = await time(() => client.query<{ n: string }>(`SELECT ${fn}($1) AS n`, [version]));
    log(`  ${sec(ms)}; comparing with ours row for row ...`);
    const cmp = await compareVersions(client, OURS, version);
    baselines.push({ name, fn, version, ms, rows: Number(r.rows[0]!.n), cmp });
  }

  // 4b. floor: a plain INSERT ... SELECT of as many allocation rows
  log('floor: INSERT ... SELECT of the same number of allocation rows ...');
  const [ins, insertMs] = await time(() => client.query(
    `INSERT INTO fifo_allocations (allocation_version, symbol, sell_order_id, allocation_seq, buy_order_id, allocated_size,
        buy_price, sell_price, buy_time, sell_time, buy_fee_usd, sell_fee_usd, cost_basis_usd, proceeds_usd, pnl_usd)
     SELECT $1, symbol, sell_order_id, allocation_seq, buy_order_id, allocated_size, buy_price, sell_price, buy_time,
            sell_time, buy_fee_usd, sell_fee_usd, cost_basis_usd, proceeds_usd, pnl_usd
       FROM fifo_allocations WHERE allocation_version = $2`, [V_FLOOR, OURS]));

  // 3c. incremental: 100 new trades over 10 symbols, five rounds, in-process
  log('ours: incremental runs ...');
  const session = await openProcedureSession(client, url, 'auto');
  await runCompute(client, session, { version: OURS, symbols: null, force: false, incremental: true }); // nothing pending
  const { rows: [last] } = await client.query<{ t: Date }>('SELECT max(order_time) AS t FROM trade_records');
  let t = new Date(last!.t).getTime();
  const inc: number[] = [];
  let coldMs = 0;
  for (let round = -1; round < 5; round++) { // round -1: the session's first call (host start-up), not counted
    const fresh = Array.from({ length: 100 }, (_, i) => ({
      order_id: `bench-inc-${round + 1}-${i}`, symbol: symbolName(i % 10), side: i % 4 === 3 ? 'sell' : 'buy', size: '0.01',
      price: '101.25', total_fees_usd: '0.0006', order_time: new Date((t += 1000)).toISOString(), source: 'bench', trigger: null,
    })) as Parameters<typeof insertTrades>[1];
    await insertTrades(client, fresh);
    const [r, ms] = await time(() => runCompute(client, session, { version: OURS, symbols: null, force: false, incremental: true }));
    if (r.symbolsComputed !== 10 || r.tradesProcessed !== 100) throw new Error(`unexpected incremental run: ${JSON.stringify(r)}`);
    if (round < 0) coldMs = ms;
    else inc.push(ms);
  }
  await session.close();
  await client.end();
  if (process.env.FIFO_BENCH_KEEP !== '1') await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
  await admin.end();

  // the table
  const floorMs = readMs + insertMs;
  const counted = baselines.filter((b) => b.cmp.equal);
  const best = counted.length > 0 ? counted.reduce((a, b) => (b.ms < a.ms ? b : a)) : null;
  lines.push({ name: 'floor: read the ledger sorted', ms: readMs, note: `${int(readRows)} rows through a cursor` });
  lines.push({ name: 'floor: INSERT ... SELECT of the allocation rows', ms: insertMs, note: `${int(ins.rowCount ?? 0)} rows into fifo_allocations` });
  lines.push({ name: 'floor (sum of the two)', ms: floorMs, note: '' });
  for (const b of baselines) {
    const c = b.cmp;
    lines.push({
      name: b.name, ms: c.equal ? b.ms : null,
      note: c.equal
        ? `matched ours row for row (${int(c.rowsB)} rows)`
        : `DID NOT MATCH ours — time not counted (${sec(b.ms)}): ${int(c.rowsB)} rows, only ours ${c.onlyA}, ` +
          `only baseline ${c.onlyB}, differing ${c.differing}; e.g. ${c.example?.slice(0, 400)}`,
    });
  }
  lines.push({ name: 'ours: full, Node host, 1 connection', ms: full.ms, note: phaseNote(full) });
  lines.push(plv8
    ? { name: 'ours: full, in-database PLV8', ms: plv8.ms, note: phaseNote(plv8) }
    : { name: 'ours: full, in-database PLV8', ms: null, note: 'n/a (PLV8 is not installed in this PostgreSQL)' });
  lines.push({
    name: 'ours: full, 2 connections (--concurrency 2)', ms: pairMs,
    note: `${pairOk ? 'ok' : 'FAILED'}; speed-up ${(full.ms / pairMs).toFixed(2)}x over 1; halves ${sec(pair[0]!.ms)} + ${sec(pair[1]!.ms)}, ` +
      `peak RSS ${pair.map((p) => p.maxRssMB.toFixed(0)).join(' + ')} MB`,
  });
  lines.push({
    name: 'ours: incremental, 100 new trades / 10 symbols', ms: median(inc),
    note: `median of 5 in-process runs after a warm-up (as in fifo watch): ${inc.map((x) => x.toFixed(0)).join(', ')} ms; ` +
      `first run of a fresh session ${coldMs.toFixed(0)} ms`,
  });

  const out: string[] = [];
  out.push(`fifo-ledger bench — ${new Date().toISOString()}`);
  out.push(...machine);
  out.push(`ledger: ${int(TRADES)} trades over ${int(SYMBOLS)} symbols (no oversells); generated + CSV ${sec(load.generateMs)}; ` +
    `loaded by ${load.via} in ${sec(load.copyMs)} (audit trigger included); ours writes ${int(allocations)} allocation rows`);
  out.push('');
  const w = Math.max(...lines.map((l) => l.name.length));
  out.push(`${'measurement'.padEnd(w)}  ${'time'.padStart(9)}  ${'ours ÷ it'.padStart(9)}  note`);
  out.push('-'.repeat(w + 24 + 40));
  for (const l of lines) {
    const ms = l.ms === null ? 'n/a' : l.ms < 1000 ? `${l.ms.toFixed(1)} ms` : sec(l.ms);
    const ratio = l.ms === null || l.name.startsWith('ours') ? '' : `${(full.ms / l.ms).toFixed(2)}x`;
    out.push(`${l.name.padEnd(w)}  ${ms.padStart(9)}  ${ratio.padStart(9)}  ${l.note}`);
  }
  out.push('');
  const verdict = (x: number, target: number) => (x <= target ? 'meets' : 'MISSES');
  if (best) {
    const r = full.ms / best.ms;
    out.push(`ours / best baseline (${best.name.split(':')[0]}): ${r.toFixed(2)}x — target ≤ 0.25x: ${verdict(r, 0.25)}`);
  } else {
    out.push('ours / best baseline: n/a — no baseline matched ours');
  }
  const rf = full.ms / floorMs;
  out.push(`ours / floor: ${rf.toFixed(2)}x — target ≤ 3x: ${verdict(rf, 3)}`);
  out.push(`incremental: median ${median(inc).toFixed(1)} ms — target ≤ 50 ms: ${verdict(median(inc), 50)}`);
  out.push(`runner peak RSS (compute child, 1 connection): ${full.maxRssMB.toFixed(0)} MB — target < 500 MB: ${verdict(full.maxRssMB, 499.999)}; ` +
    `bench process (held the generated ledger): ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
  out.push(`total bench time: ${sec(performance.now() - benchStart)}`);
  console.log(out.join('\n'));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
