/**
 * `pnpm bench:incremental [trades] [symbols]`: with a large ledger computed, insert 100 new
 * trades over 10 symbols and time an incremental run — in-process (session open, as `fifo
 * watch` runs it) and end to end as a `fifo compute --incremental` process. Five rounds;
 * prints each and the median. Reuses database fifo_bench_inc when it already holds the ledger.
 */
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import pg from 'pg';
import { startCluster } from '../../packages/cli/src/db/cluster.ts';
import { migrate } from '../../packages/cli/src/db/migrate.ts';
import { runCompute } from '../../packages/cli/src/compute/run-compute.ts';
import { openProcedureSession } from '../../packages/cli/src/compute/sessions.ts';
import { WATCH_SESSION_SQL } from '../../packages/cli/src/compute/watcher.ts';
import { generateLedger, symbolName } from '../../packages/cli/src/sample/ledger-generator.ts';
import { insertTrades } from '../../packages/cli/src/sample/load-ledger.ts';

const TRADES = Number(process.argv[2] ?? 1_000_000);
const SYMBOLS = Number(process.argv[3] ?? 1_000);
const DB = 'fifo_bench_inc';
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const base = process.env.DATABASE_URL || (await startCluster()).url;
  const server = base.replace(/\/[^/?]*(\?.*)?$/, '');
  const url = `${server}/${DB}`;
  const admin = new pg.Client({ connectionString: `${server}/postgres` });
  await admin.connect();
  const exists = (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DB])).rowCount! > 0;
  let client: pg.Client | undefined;
  if (exists) {
    client = new pg.Client({ connectionString: url });
    await client.connect();
    const n = await client.query(`SELECT count(*)::int AS n FROM trade_records WHERE order_id NOT LIKE 'inc-%'`).catch(() => ({ rows: [{ n: 0 }] }));
    if (n.rows[0].n !== TRADES) {
      await client.end();
      client = undefined;
    }
  }
  if (!client) {
    await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${DB}`);
    await migrate({ url, direction: 'up' });
    client = new pg.Client({ connectionString: url });
    await client.connect();
    console.error(`loading ${TRADES} trades over ${SYMBOLS} symbols and computing them (once) ...`);
    await insertTrades(client, generateLedger({ trades: TRADES, symbols: SYMBOLS, seed: 3 }), 50_000);
    await client.query('VACUUM ANALYZE');
  }
  await admin.end();
  const session = await openProcedureSession(client, url, 'auto', WATCH_SESSION_SQL); // as fifo watch opens it
  await runCompute(client, session, { version: 1, symbols: null, force: false, incremental: true }); // catch up

  const { rows: [last] } = await client.query(`SELECT max(order_time) AS t FROM trade_records`);
  let t = new Date(last.t).getTime();
  const newTrades = (round: number) => Array.from({ length: 100 }, (_, i) => ({
    order_id: `inc-${Date.now()}-${round}-${i}`, symbol: symbolName(i % 10), side: i % 4 === 3 ? 'sell' : 'buy',
    size: '0.01', price: '101.25', total_fees_usd: '0.0006', order_time: new Date((t += 1000)).toISOString(), source: 'bench', trigger: null,
  })) as Parameters<typeof insertTrades>[1];

  const inProcess: number[] = [];
  const endToEnd: number[] = [];
  for (let round = 0; round < 5; round++) {
    await insertTrades(client, newTrades(round));
    const t0 = performance.now();
    const r = await runCompute(client, session, { version: 1, symbols: null, force: false, incremental: true });
    inProcess.push(performance.now() - t0);
    if (r.symbolsComputed !== 10 || r.tradesProcessed !== 100) throw new Error(`unexpected run: ${JSON.stringify(r)}`);

    await insertTrades(client, newTrades(round + 100));
    const t1 = performance.now();
    const p = spawnSync(process.execPath, ['--import', 'tsx', resolve(import.meta.dirname, '../../packages/cli/src/main.ts'), 'compute', '--incremental', '--json'],
      { env: { ...process.env, DATABASE_URL: url }, encoding: 'utf8' });
    endToEnd.push(performance.now() - t1);
    if (p.status !== 0) throw new Error(p.stderr);
  }
  await session.close();
  await client.end();
  console.log(`machine: ${cpus()[0]?.model} x${cpus().length}, node ${process.version}; ledger ${TRADES} trades / ${SYMBOLS} symbols; host ${session.kind}`);
  console.log(`incremental run, 100 new trades over 10 symbols, in-process (as fifo watch): ${inProcess.map((x) => x.toFixed(1)).join(', ')} ms; median ${median(inProcess).toFixed(1)} ms`);
  console.log(`same, as a 'fifo compute --incremental' process (node + tsx start-up included): ${endToEnd.map((x) => x.toFixed(0)).join(', ')} ms; median ${median(endToEnd).toFixed(0)} ms`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
