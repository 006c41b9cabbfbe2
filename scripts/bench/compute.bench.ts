/**
 * `pnpm bench:compute [trades] [symbols]`: full compute of a generated ledger in the Node
 * host (and in-database where PLV8 exists), next to the floor — a plain INSERT ... SELECT
 * writing the same number of allocation rows — and an incremental run after 100 new trades
 * over 10 symbols. Prints figures; asserts nothing (this machine is noisy: read ratios).
 */
import { cpus, totalmem } from 'node:os';
import pg from 'pg';
import { startCluster } from '../../packages/cli/src/db/cluster.ts';
import { migrate } from '../../packages/cli/src/db/migrate.ts';
import { runCompute } from '../../packages/cli/src/compute/run-compute.ts';
import { openProcedureSession } from '../../packages/cli/src/compute/sessions.ts';
import { plv8ProceduresInstalled } from '../../packages/cli/src/compute/procedure-host.ts';
import { generateLedger, symbolName } from '../../packages/cli/src/sample/ledger-generator.ts';
import { insertTrades } from '../../packages/cli/src/sample/load-ledger.ts';

const TRADES = Number(process.argv[2] ?? 1_000_000);
const SYMBOLS = Number(process.argv[3] ?? 1_000);

async function main(): Promise<void> {
  const base = process.env.DATABASE_URL || (await startCluster()).url;
  const server = base.replace(/\/[^/?]*(\?.*)?$/, '');
  const admin = new pg.Client({ connectionString: `${server}/postgres` });
  await admin.connect();
  await admin.query('DROP DATABASE IF EXISTS fifo_bench WITH (FORCE)');
  await admin.query('CREATE DATABASE fifo_bench');
  await admin.end();
  const url = `${server}/fifo_bench`;
  await migrate({ url, direction: 'up' });
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const time = async <T>(f: () => Promise<T>): Promise<[T, number]> => {
    const t0 = performance.now();
    const r = await f();
    return [r, performance.now() - t0];
  };

  console.error(`generating and loading ${TRADES} trades over ${SYMBOLS} symbols ...`);
  const ledger = generateLedger({ trades: TRADES, symbols: SYMBOLS, seed: 1, oversellRate: 0.001 });
  const [, loadMs] = await time(() => insertTrades(client, ledger, 50_000));
  await client.query('VACUUM ANALYZE trade_records');

  const results: Array<[string, number, string]> = [];
  const [, readMs] = await time(() => client.query(
    `SELECT order_id, symbol, side, size::text, price::text, total_fees_usd::text, order_time FROM trade_records
      ORDER BY symbol, order_time, side = 'sell', order_id COLLATE "C"`));
  results.push(['read the ledger sorted (floor)', readMs, '']);

  const session = await openProcedureSession(client, url, 'client');
  const [full, fullMs] = await time(() => runCompute(client, session, { version: 1, symbols: null, force: true }));
  results.push(['full compute, Node host', fullMs, `${full.allocationsWritten} allocations, ${full.status}`]);

  await client.query(`INSERT INTO fifo_allocation_versions (allocation_version, method) VALUES (9, 'fifo')`);
  const [, floorMs] = await time(() => client.query(
    `INSERT INTO fifo_allocations (allocation_version, symbol, sell_order_id, allocation_seq, buy_order_id, allocated_size,
        buy_price, sell_price, buy_time, sell_time, buy_fee_usd, sell_fee_usd, cost_basis_usd, proceeds_usd, pnl_usd)
     SELECT 9, symbol, sell_order_id, allocation_seq, buy_order_id, allocated_size, buy_price, sell_price, buy_time,
            sell_time, buy_fee_usd, sell_fee_usd, cost_basis_usd, proceeds_usd, pnl_usd
       FROM fifo_allocations WHERE allocation_version = 1`));
  results.push(['INSERT ... SELECT of the same rows (floor)', floorMs, '']);

  if (await plv8ProceduresInstalled(client)) {
    const inDb = await openProcedureSession(client, url, 'plv8');
    const [r, ms] = await time(() => runCompute(client, inDb, { version: 1, symbols: null, force: true }));
    results.push(['full compute, in-database PLV8', ms, `${r.allocationsWritten} allocations`]);
    await inDb.close();
  }

  // 100 new trades over 10 symbols, then an incremental run
  const later = Date.parse('2030-01-01T00:00:00Z');
  const fresh = Array.from({ length: 100 }, (_, i) => ({
    order_id: `late-${i}`, symbol: symbolName(i % 10), side: i % 3 === 2 ? 'sell' : 'buy', size: '0.01',
    price: '123.45', total_fees_usd: '0.001', order_time: new Date(later + i * 1000).toISOString(), source: 'bench', trigger: null,
  })) as Parameters<typeof insertTrades>[1];
  await insertTrades(client, fresh);
  const [inc, incMs] = await time(() => runCompute(client, session, { version: 1, symbols: null, force: false, incremental: true }));
  results.push(['incremental after 100 trades / 10 symbols', incMs, `${inc.symbolsComputed} symbols, ${inc.tradesProcessed} trades`]);
  await session.close();
  await client.end();

  const rss = process.resourceUsage().maxRSS / 1024;
  console.log(`machine: ${cpus()[0]?.model} x${cpus().length}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`);
  console.log(`ledger: ${TRADES} trades over ${SYMBOLS} symbols, loaded in ${(loadMs / 1000).toFixed(1)} s`);
  for (const [name, ms, note] of results) console.log(`${name.padEnd(45)} ${(ms / 1000).toFixed(3).padStart(9)} s  ${note}`);
  console.log(`full compute / INSERT floor: ${(fullMs / floorMs).toFixed(2)}x;  runner peak RSS ${rss.toFixed(0)} MB`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
