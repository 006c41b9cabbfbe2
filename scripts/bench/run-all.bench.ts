/**
 * `pnpm bench [trades] [symbols]` (issues 7, 11, 12): one run, one printed table, then one
 * line per target that a script can read (see docs/BENCHMARKS.md).
 *
 *  1. A generated ledger (default 1,000,000 trades over 1,000 symbols, no sell ever exceeds
 *     the inventory), loaded by COPY into a fresh database `fifo_bench_all`.
 *  2. Two SQL baselines (scripts/bench/baselines/), one connection each, writing into
 *     fifo_allocations under versions of their own; each is compared row for row (every
 *     money column) with ours before its time counts.
 *  3. Ours: full compute in the Node host (a child process, as `fifo compute --force`, so its
 *     peak RSS is the runner's own), in-database PLV8 where installed, the real
 *     `fifo compute --force --concurrency 2` in a child, incremental runs in-process (as
 *     `fifo watch`) and a one-shot `fifo compute --incremental` process.
 *  4. The floors: the ledger read sorted; the same allocation rows into an unindexed table of
 *     the same columns (bare insert) and into fifo_allocations (table).
 *  5. Memory and start-up: 2 × trades in ONE symbol (database `fifo_bench_one`), a Coinbase
 *     fills CSV of `trades` lines through `fifo import coinbase` (database `fifo_bench_import`),
 *     `fifo --version` against `node -e 0`.
 *
 * Asserts nothing. The machine may be shared: compare within one run. FIFO_BENCH_KEEP=1 keeps
 * the databases afterwards.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { startCluster } from '../../packages/cli/src/db/cluster.ts';
import { migrate } from '../../packages/cli/src/db/migrate.ts';
import { runCompute } from '../../packages/cli/src/compute/run-compute.ts';
import { openProcedureSession } from '../../packages/cli/src/compute/sessions.ts';
import { WATCH_SESSION_SQL } from '../../packages/cli/src/compute/watcher.ts';
import { plv8ProceduresInstalled } from '../../packages/cli/src/compute/procedure-host.ts';
import { symbolName } from '../../packages/cli/src/sample/ledger-generator.ts';
import { insertTrades } from '../../packages/cli/src/sample/load-ledger.ts';
import { compareVersions, type Comparison } from './lib/compare.ts';
import type { ChildReport } from './lib/compute-child.ts';
import { loadLedger, loadStreamedLedger } from './lib/ledger.ts';
import { describeMachine } from './lib/machine.ts';
import { BIN, buildCli, runCli, runNode, type CliRun } from './lib/run-cli.ts';
import { computeInChild } from './lib/spawn-compute.ts';
import { streamTrades, writeCoinbaseCsv } from './lib/stream-ledger.ts';

const TRADES = Number(process.argv[2] ?? 1_000_000);
const SYMBOLS = Number(process.argv[3] ?? 1_000);
const ONE_SYMBOL_TRADES = 2 * TRADES;
const IMPORT_LINES = TRADES;
// FIFO_BENCH_TAG=x: databases fifo_bench_all_x, ... so two benches on one server do not drop each other's
const TAG = /^[a-z0-9_]{1,20}$/.test(process.env.FIFO_BENCH_TAG ?? '') ? `_${process.env.FIFO_BENCH_TAG}` : '';
const DB = `fifo_bench_all${TAG}`;
const DB_ONE = `fifo_bench_one${TAG}`;
const DB_IMPORT = `fifo_bench_import${TAG}`;
const OURS = 1;
const V_PLPGSQL = 101;
const V_SET = 102;
const V_FLOOR = 100;
const BASELINES = resolve(import.meta.dirname, 'baselines');
const RSS_LIMIT_MB = 400;
const KEEP = process.env.FIFO_BENCH_KEEP === '1';

const benchStart = performance.now();
const log = (msg: string) => console.error(`[${((performance.now() - benchStart) / 1000).toFixed(0).padStart(4)} s] ${msg}`);
const time = async <T>(f: () => Promise<T>): Promise<[T, number]> => {
  const t0 = performance.now();
  const r = await f();
  return [r, performance.now() - t0];
};
const sec = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
const int = (n: number) => n.toLocaleString('en-US');
const mb = (x: number) => (Number.isFinite(x) ? `${x.toFixed(0)} MB` : 'n/a');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const firstLine = (s: string) => s.trim().split('\n').filter((l) => l.trim() !== '').slice(-1)[0]?.slice(0, 300) ?? '';

interface Line {
  name: string;
  ms: number | null;
  /** show "ours ÷ it" (the 1-connection full compute over this line) */
  versus?: boolean;
  note: string;
}

/** A target line: `<kind> <case>: <value> (target <op> <value>: meets|MISSES)`. */
interface Verdict {
  kind: string;
  name: string;
  value: number | null;
  op: '≤' | '≥';
  target: number;
  unit: 'x' | ' s' | ' ms' | '';
  digits: number;
  /** why the value is n/a */
  why?: string;
}

function verdictLine(v: Verdict): string {
  const fmt = (x: number) => `${x.toFixed(v.digits)}${v.unit}`;
  if (v.value === null || !Number.isFinite(v.value)) return `${v.kind} ${v.name}: n/a (${v.why ?? 'not measured'})`;
  const ok = v.op === '≤' ? v.value <= v.target : v.value >= v.target;
  return `${v.kind} ${v.name}: ${fmt(v.value)} (target ${v.op} ${fmt(v.target)}: ${ok ? 'meets' : 'MISSES'})`;
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
    `write ${sec(t.writeMs)}, other ${sec(other)}; peak RSS ${mb(r.maxRssMB)} (tsx child)`;
}

interface Summary {
  status: string;
  durationMs: number;
  symbolsComputed: number;
  tradesProcessed: number;
  allocationsWritten: number;
  host: string;
}

/** A CLI run that prints a JSON summary (compute --json): the summary, or why there is none. */
function summaryOf(r: CliRun): Summary | string {
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if ((r.code !== 0 && r.code !== 1) || !line.startsWith('{')) return `exit ${r.code}: ${firstLine(r.stderr || r.stdout)}`;
  return JSON.parse(line) as Summary;
}

let CLI = 'node packages/cli/dist/fifo.mjs';

async function freshDatabase(admin: pg.Client, server: string, name: string): Promise<string> {
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
  const url = `${server}/${name}`;
  await migrate({ url, direction: 'up' });
  return url;
}

async function main(): Promise<void> {
  const lines: Line[] = [];
  const verdicts: Verdict[] = [];
  const rss: Verdict[] = [];

  // 0. the compiled CLI and its start-up (no database needed)
  log('building the CLI (pnpm -s build:cli) ...');
  const buildError = buildCli();
  if (buildError !== null) CLI = 'node --import tsx packages/cli/src/main.ts (the CLI did not build)';
  let startup: { fifo: number[]; node: number[]; flag: string; why?: string } | null = null;
  if (buildError === null) {
    log('start-up: node -e 0 and fifo --version, 5 each ...');
    const probe = await runNode([BIN, '--version']);
    const flag = probe.code === 0 ? '--version' : '--help';
    const fifo: number[] = [];
    const node: number[] = [];
    for (let i = 0; i < 5; i++) {
      node.push((await runNode(['-e', '0'])).wallMs);
      fifo.push((await runNode([BIN, flag])).wallMs);
    }
    startup = { fifo, node, flag, ...(flag === '--help' ? { why: '--version is not implemented yet (exit ' + probe.code + '): timed --help' } : {}) };
  } else {
    log(`the CLI did not build: ${buildError}`);
  }

  const base = process.env.DATABASE_URL || (await startCluster()).url;
  const server = base.replace(/\/[^/?]*(\?.*)?$/, '');
  const admin = new pg.Client({ connectionString: `${server}/postgres` });
  await admin.connect();
  const url = await freshDatabase(admin, server, DB);
  const client = new pg.Client({ connectionString: url, application_name: 'fifo-ledger bench' });
  await client.connect();
  const machine = await describeMachine(client);

  // 1. the ledger
  log(`generating ${int(TRADES)} trades over ${int(SYMBOLS)} symbols and loading them by COPY ...`);
  const load = await loadLedger(client, url, TRADES, SYMBOLS, 7);
  log(`loaded in ${sec(load.copyMs)} via ${load.via}; VACUUM ANALYZE ...`);
  await client.query('VACUUM ANALYZE trade_records');

  // 4a. floor: the ledger read sorted
  log('floor: reading the ledger sorted ...');
  const [readRows, readMs] = await time(() => readLedgerSorted(client));

  // 3. ours, full, one connection (a child process: the runner's own memory)
  log('ours: full compute, Node host, 1 connection ...');
  const full = await computeInChild({ url, version: OURS, host: 'client', symbols: null });
  if (full.status !== 'success') throw new Error(`full compute failed: ${JSON.stringify(full)}`);
  const allocations = full.allocations;

  const plv8Installed = await plv8ProceduresInstalled(client);
  let plv8: ChildReport | null = null;
  if (plv8Installed) {
    log('ours: full compute in-database (PLV8) ...');
    plv8 = await computeInChild({ url, version: OURS, host: 'plv8', symbols: null });
  }

  // 3b. the real `fifo compute --force --concurrency 2`, in a child
  const concurrent = async (host: 'client' | 'plv8') => {
    log(`ours: ${CLI} compute --force --concurrency 2 --host ${host} ...`);
    const run = await runCli(['compute', '--force', '--concurrency', '2', '--host', host, '--json'], { DATABASE_URL: url });
    const s = summaryOf(run);
    const ok = typeof s !== 'string' && s.status === 'success' && s.allocationsWritten === allocations;
    return { run, s, ok };
  };
  const conc = await concurrent('client');
  const concPlv8 = plv8Installed ? await concurrent('plv8') : null;

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

  // 4b. floors: our rows into fifo_allocations (another version), and into a bare table
  log('floor: INSERT ... SELECT of the allocation rows into fifo_allocations ...');
  const COLS = `symbol, sell_order_id, allocation_seq, buy_order_id, allocated_size, buy_price, sell_price, buy_time,
                sell_time, buy_fee_usd, sell_fee_usd, cost_basis_usd, proceeds_usd, pnl_usd`;
  const [ins, insertMs] = await time(() => client.query(
    `INSERT INTO fifo_allocations (allocation_version, ${COLS}) SELECT $1, ${COLS} FROM fifo_allocations WHERE allocation_version = $2`,
    [V_FLOOR, OURS]));
  log('floor: the same rows into an unindexed table of the same columns ...');
  // LIKE copies the columns, NOT NULLs and defaults only: no key, no index, no CHECK, no partitioning
  await client.query('CREATE TABLE bench_bare (LIKE fifo_allocations INCLUDING DEFAULTS)');
  await client.query('CHECKPOINT');
  const [bare, bareMs] = await time(() => client.query(
    `INSERT INTO bench_bare (allocation_version, ${COLS}) SELECT $1, ${COLS} FROM fifo_allocations WHERE allocation_version = $2`,
    [V_FLOOR, OURS]));
  await client.query('DROP TABLE bench_bare');

  // 3c. incremental: 100 new trades over 10 symbols, five rounds, in-process (as `fifo watch`)
  log('ours: incremental runs ...');
  const { rows: [last] } = await client.query<{ t: Date }>('SELECT max(order_time) AS t FROM trade_records');
  let t = new Date(last!.t).getTime();
  const newTrades = (tag: string) => Array.from({ length: 100 }, (_, i) => ({
    order_id: `bench-${tag}-${i}`, symbol: symbolName(i % 10), side: i % 4 === 3 ? 'sell' : 'buy', size: '0.01',
    price: '101.25', total_fees_usd: '0.0006', order_time: new Date((t += 1000)).toISOString(), source: 'bench', trigger: null,
  })) as Parameters<typeof insertTrades>[1];
  const session = await openProcedureSession(client, url, 'auto', WATCH_SESSION_SQL); // as fifo watch opens it
  await runCompute(client, session, { version: OURS, symbols: null, force: false, incremental: true }); // nothing pending
  const inc: number[] = [];
  let coldMs = 0;
  for (let round = -1; round < 5; round++) { // round -1: the session's first call (host start-up), not counted
    await insertTrades(client, newTrades(`inc-${round + 1}`));
    const [r, ms] = await time(() => runCompute(client, session, { version: OURS, symbols: null, force: false, incremental: true }));
    if (r.symbolsComputed !== 10 || r.tradesProcessed !== 100) throw new Error(`unexpected incremental run: ${JSON.stringify(r)}`);
    if (round < 0) coldMs = ms;
    else inc.push(ms);
  }
  await session.close();

  // 3d. one-shot: a fresh `fifo compute --incremental` process after 100 new trades, end to end
  log(`ours: one-shot ${CLI} compute --incremental, 3 rounds ...`);
  const oneShot: number[] = [];
  let oneShotError: string | null = null;
  for (let round = 0; round < 3 && oneShotError === null; round++) {
    await insertTrades(client, newTrades(`oneshot-${round}`));
    const run = await runCli(['compute', '--incremental', '--json'], { DATABASE_URL: url });
    const s = summaryOf(run);
    if (typeof s === 'string') oneShotError = s;
    else if (s.symbolsComputed !== 10 || s.tradesProcessed !== 100) oneShotError = `unexpected run: ${JSON.stringify(s).slice(0, 200)}`;
    else oneShot.push(run.wallMs);
  }
  await client.end();
  if (!KEEP) await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);

  // 5a. memory: 2 × trades in ONE symbol, a database of its own
  log(`memory: ${int(ONE_SYMBOL_TRADES)} trades in one symbol (database ${DB_ONE}) ...`);
  const urlOne = await freshDatabase(admin, server, DB_ONE);
  const one = new pg.Client({ connectionString: urlOne });
  await one.connect();
  const loadOne = await loadStreamedLedger(one, urlOne, ONE_SYMBOL_TRADES, 1, 9);
  await one.query('VACUUM ANALYZE trade_records');
  await one.end();
  log(`  loaded in ${sec(loadOne.generateMs)} + ${sec(loadOne.copyMs)}; ${CLI} compute --force --host client ...`);
  const oneRun = await runCli(['compute', '--force', '--host', 'client', '--json'], { DATABASE_URL: urlOne });
  const oneSummary = summaryOf(oneRun);
  let onePlv8: { run: CliRun; s: Summary | string } | null = null;
  if (plv8Installed) {
    log('  in-database (PLV8) ...');
    const run = await runCli(['compute', '--force', '--host', 'plv8', '--json'], { DATABASE_URL: urlOne });
    onePlv8 = { run, s: summaryOf(run) };
  }
  if (!KEEP) await admin.query(`DROP DATABASE IF EXISTS ${DB_ONE} WITH (FORCE)`);

  // 5b. a Coinbase fills CSV through `fifo import coinbase`
  log(`import: a Coinbase fills CSV of ${int(IMPORT_LINES)} lines (database ${DB_IMPORT}) ...`);
  const urlImport = await freshDatabase(admin, server, DB_IMPORT);
  const dir = mkdtempSync(join(tmpdir(), 'fifo-bench-import-'));
  const csv = join(dir, 'fills.csv');
  let importRun: CliRun;
  let imported = 0;
  try {
    const [, csvMs] = await time(() => writeCoinbaseCsv(csv, streamTrades(IMPORT_LINES, SYMBOLS, 8)));
    log(`  written in ${sec(csvMs)}; ${CLI} import coinbase ...`);
    importRun = await runCli(['import', 'coinbase', csv, '--json'], { DATABASE_URL: urlImport });
    const c = new pg.Client({ connectionString: urlImport });
    await c.connect();
    imported = Number((await c.query<{ n: string }>('SELECT count(*) AS n FROM trade_records')).rows[0]!.n);
    await c.end();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (!KEEP) await admin.query(`DROP DATABASE IF EXISTS ${DB_IMPORT} WITH (FORCE)`);
  await admin.end();

  // the table
  const floorMs = readMs + bareMs;
  const counted = baselines.filter((b) => b.cmp.equal);
  const plpgsql = baselines.find((b) => b.fn === 'bench_fifo_plpgsql' && b.cmp.equal) ?? null;
  lines.push({ name: 'floor: read the ledger sorted', ms: readMs, versus: true, note: `${int(readRows)} rows through a cursor` });
  lines.push({ name: 'floor: bare insert (unindexed table)', ms: bareMs, versus: true,
    note: `${int(bare.rowCount ?? 0)} rows, same columns, no key, index, CHECK or partition` });
  lines.push({ name: 'floor: physical (sorted read + bare insert)', ms: floorMs, versus: true, note: '' });
  lines.push({ name: 'table: INSERT ... SELECT into fifo_allocations', ms: insertMs, versus: true,
    note: `${int(ins.rowCount ?? 0)} rows under version ${V_FLOOR}: the product's table as it is` });
  for (const b of baselines) {
    const c = b.cmp;
    lines.push({
      name: b.name, ms: c.equal ? b.ms : null, versus: true,
      note: c.equal
        ? `matched ours row for row (${int(c.rowsB)} rows)`
        : `DID NOT MATCH ours — time not counted (${sec(b.ms)}): ${int(c.rowsB)} rows, only ours ${c.onlyA}, ` +
          `only baseline ${c.onlyB}, differing ${c.differing}; e.g. ${c.example?.slice(0, 400)}`,
    });
  }
  lines.push({ name: 'ours: full, Node host, 1 connection', ms: full.ms, note: phaseNote(full) });
  lines.push(plv8
    ? { name: 'ours: full, in-database PLV8, 1 connection', ms: plv8.ms, note: phaseNote(plv8) }
    : { name: 'ours: full, in-database PLV8, 1 connection', ms: null, note: 'n/a (PLV8 is not installed in this PostgreSQL)' });
  const concLine = (name: string, c: Awaited<ReturnType<typeof concurrent>> | null, oneMs: number | null): Line => {
    if (!c) return { name, ms: null, note: 'n/a (PLV8 is not installed in this PostgreSQL)' };
    if (typeof c.s === 'string') return { name, ms: null, note: `FAILED: ${c.s}` };
    return {
      name, ms: c.ok ? c.s.durationMs : null,
      note: `${c.ok ? '' : `FAILED (status ${c.s.status}, ${int(c.s.allocationsWritten)} rows): `}${c.s.durationMs.toFixed(0)} ms in the runner, ` +
        `process ${sec(c.run.wallMs)}; ${oneMs ? `speed-up ${(oneMs / c.s.durationMs).toFixed(2)}x over 1; ` : ''}peak RSS ${mb(c.run.maxRssMB)}`,
    };
  };
  lines.push(concLine('ours: full, Node host, --concurrency 2', conc, full.ms));
  lines.push(concLine('ours: full, in-database PLV8, --concurrency 2', concPlv8, plv8?.ms ?? null));
  lines.push({
    name: 'ours: incremental in watch, 100 new trades / 10 symbols', ms: median(inc),
    note: `median of 5 in-process runs after a warm-up: ${inc.map((x) => x.toFixed(0)).join(', ')} ms; first run of a fresh session ${coldMs.toFixed(0)} ms`,
  });
  lines.push({
    name: 'ours: one-shot compute --incremental, 100 new trades', ms: oneShotError ? null : median(oneShot),
    note: oneShotError ? `FAILED: ${oneShotError}` : `${CLI}, process start to exit, median of 3: ${oneShot.map((x) => x.toFixed(0)).join(', ')} ms`,
  });
  if (startup) {
    lines.push({ name: 'start-up: node -e 0', ms: median(startup.node), note: `median of 5: ${startup.node.map((x) => x.toFixed(0)).join(', ')} ms` });
    lines.push({ name: `start-up: fifo ${startup.flag}`, ms: median(startup.fifo),
      note: `node packages/cli/dist/fifo.mjs ${startup.flag}, median of 5: ${startup.fifo.map((x) => x.toFixed(0)).join(', ')} ms${startup.why ? `; ${startup.why}` : ''}` });
  }
  const oneOk = typeof oneSummary !== 'string' && oneSummary.status === 'success' && oneSummary.tradesProcessed === ONE_SYMBOL_TRADES;
  lines.push({
    name: `memory: full, ${int(ONE_SYMBOL_TRADES)} trades in ONE symbol`, ms: oneOk ? (oneSummary as Summary).durationMs : null,
    note: typeof oneSummary === 'string' ? `FAILED: ${oneSummary}; peak RSS ${mb(oneRun.maxRssMB)}`
      : `${oneOk ? '' : `FAILED (status ${oneSummary.status}): `}${CLI} compute --force --host client: ${int(oneSummary.allocationsWritten)} rows; ` +
        `process ${sec(oneRun.wallMs)}; peak RSS ${mb(oneRun.maxRssMB)}; ledger generated ${sec(loadOne.generateMs)}, COPY ${sec(loadOne.copyMs)}`,
  });
  if (onePlv8) {
    const s = onePlv8.s;
    lines.push({ name: `memory: in-database, ${int(ONE_SYMBOL_TRADES)} trades in ONE symbol`, ms: typeof s === 'string' || s.status !== 'success' ? null : s.durationMs,
      note: typeof s === 'string' ? `FAILED: ${s}` : `status ${s.status}; the isolate's limit is PLV8's (256 MB by default)` });
  }
  const importOk = importRun!.code === 0 && imported === IMPORT_LINES;
  lines.push({
    name: `import: Coinbase fills CSV, ${int(IMPORT_LINES)} lines`, ms: importOk ? importRun!.wallMs : null,
    note: `${importOk ? '' : `FAILED (exit ${importRun!.code}, ${int(imported)} trades in the ledger): ${firstLine(importRun!.stderr)}; `}` +
      `${CLI} import coinbase, process start to exit; peak RSS ${mb(importRun!.maxRssMB)}`,
  });

  // the targets
  const noPlv8 = 'PLV8 is not installed in this PostgreSQL';
  const noLoop = 'the PL/pgSQL loop did not match ours';
  const ratio = (name: string, a: number | null, b: number | null, op: '≤' | '≥', target: number, why: string): Verdict =>
    ({ kind: 'ratio', name, value: a !== null && b !== null ? a / b : null, op, target, unit: 'x', digits: 2, why });
  const concMs = (c: Awaited<ReturnType<typeof concurrent>> | null) => (c && c.ok && typeof c.s !== 'string' ? c.s.durationMs : null);
  verdicts.push(ratio('node-host/plpgsql', full.ms, plpgsql?.ms ?? null, '≤', 0.8, noLoop));
  verdicts.push(ratio('in-database/plpgsql', plv8?.ms ?? null, plpgsql?.ms ?? null, '≤', 0.8, plv8 ? noLoop : noPlv8));
  verdicts.push(ratio('node-host-2/plpgsql', concMs(conc), plpgsql?.ms ?? null, '≤', 0.5, plpgsql ? '--concurrency 2 failed' : noLoop));
  verdicts.push(ratio('in-database-2/plpgsql', concMs(concPlv8), plpgsql?.ms ?? null, '≤', 0.5, plv8 ? 'failed' : noPlv8));
  verdicts.push(ratio('node-host/bare-floor', full.ms, floorMs, '≤', 2, ''));
  verdicts.push(ratio('in-database/bare-floor', plv8?.ms ?? null, floorMs, '≤', 2, noPlv8));
  verdicts.push(ratio('table/bare-insert', insertMs, bareMs, '≤', 2.5, ''));
  // time with 2 over time with 1: a speed-up of at least 1.7 is a ratio of at most 1/1.7
  verdicts.push({ ...ratio('concurrency-2/1', concMs(conc), full.ms, '≤', 1 / 1.7, '--concurrency 2 failed'), digits: 3 });
  verdicts.push({ ...ratio('in-database-concurrency-2/1', concMs(concPlv8), plv8?.ms ?? null, '≤', 1 / 1.7, plv8 ? 'failed' : noPlv8), digits: 3 });
  rss.push({ kind: 'peak-rss-mb', name: `full-${TRADES}-trades-${SYMBOLS}-symbols`, value: full.maxRssMB, op: '≤', target: RSS_LIMIT_MB, unit: '', digits: 0 });
  rss.push({ kind: 'peak-rss-mb', name: `one-symbol-${ONE_SYMBOL_TRADES}-trades`, value: oneOk ? oneRun.maxRssMB : null, op: '≤', target: RSS_LIMIT_MB, unit: '', digits: 0,
    why: `the compute failed (peak RSS ${mb(oneRun.maxRssMB)})` });
  rss.push({ kind: 'peak-rss-mb', name: `import-coinbase-${IMPORT_LINES}-lines`, value: importOk ? importRun!.maxRssMB : null, op: '≤', target: RSS_LIMIT_MB, unit: '', digits: 0,
    why: `the import failed (peak RSS ${mb(importRun!.maxRssMB)})` });
  const timed: Verdict[] = [
    { kind: 'seconds', name: `import-coinbase-${IMPORT_LINES}-lines`, value: importOk ? importRun!.wallMs / 1000 : null, op: '≤', target: 20, unit: ' s', digits: 1, why: 'the import failed' },
    { kind: 'incremental', name: 'watch', value: median(inc), op: '≤', target: 50, unit: ' ms', digits: 1 },
    { kind: 'startup', name: startup ? `fifo-${startup.flag.slice(2)}-over-node` : 'fifo-version-over-node',
      value: startup ? median(startup.fifo) / 1000 - median(startup.node) / 1000 : null, op: '≤', target: 0.15, unit: ' s', digits: 3,
      why: `the CLI did not build: ${buildError}` },
    { kind: 'one-shot', name: 'compute-incremental', value: oneShotError ? null : median(oneShot) / 1000, op: '≤', target: 0.3, unit: ' s', digits: 3,
      why: oneShotError ?? '' },
  ];

  const out: string[] = [];
  out.push(`fifo-ledger bench — ${new Date().toISOString()}`);
  out.push(...machine);
  out.push(`ledger: ${int(TRADES)} trades over ${int(SYMBOLS)} symbols (no oversells); generated + CSV ${sec(load.generateMs)}; ` +
    `loaded by ${load.via} in ${sec(load.copyMs)} (audit trigger included); ours writes ${int(allocations)} allocation rows`);
  if (buildError !== null) out.push(`the CLI did not build (${buildError}): CLI lines ran through tsx`);
  out.push('');
  const w = Math.max(...lines.map((l) => l.name.length));
  out.push(`${'measurement'.padEnd(w)}  ${'time'.padStart(9)}  ${'ours ÷ it'.padStart(9)}  note`);
  out.push('-'.repeat(w + 24 + 40));
  for (const l of lines) {
    const ms = l.ms === null ? 'n/a' : l.ms < 1000 ? `${l.ms.toFixed(1)} ms` : sec(l.ms);
    const r = l.ms === null || !l.versus ? '' : `${(full.ms / l.ms).toFixed(2)}x`;
    out.push(`${l.name.padEnd(w)}  ${ms.padStart(9)}  ${r.padStart(9)}  ${l.note}`);
  }
  out.push('');
  out.push(`best matching baseline: ${counted.length ? counted.reduce((a, b) => (b.ms < a.ms ? b : a)).name : 'none'}; ` +
    `bench process peak RSS (held the generated ledger): ${mb(process.resourceUsage().maxRSS / 1024)}`);
  out.push(`total bench time: ${sec(performance.now() - benchStart)}`);
  out.push('');
  for (const v of [...verdicts, ...rss, ...timed]) out.push(verdictLine(v));
  console.log(out.join('\n'));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
