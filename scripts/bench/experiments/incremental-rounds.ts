/**
 * The bench's in-process incremental runs (as `fifo watch`), alone: ROUNDS rounds of 100 new
 * trades over the first 10 symbols, after one run with nothing pending; prints each round's ms
 * (the first is the session's first call). For comparing two checkouts on one database.
 *   DATABASE_URL=... tsx scripts/bench/experiments/incremental-rounds.ts [rounds] [tag]
 */
import pg from 'pg';
import { runCompute } from '../../../packages/cli/src/compute/run-compute.ts';
import { openProcedureSession } from '../../../packages/cli/src/compute/sessions.ts';
import { WATCH_SESSION_SQL } from '../../../packages/cli/src/compute/watcher.ts';

const ROUNDS = Number(process.argv[2] ?? 6);
const TAG = process.argv[3] ?? String(Date.now());
const url = process.env.DATABASE_URL!;
const client = new pg.Client({ connectionString: url });
await client.connect();
const symbols = (await client.query<{ s: string }>('SELECT DISTINCT symbol AS s FROM trade_records ORDER BY 1 LIMIT 10')).rows.map((r) => r.s);
const session = await openProcedureSession(client, url, 'auto', WATCH_SESSION_SQL);
await runCompute(client, session, { version: 1, symbols: null, force: false, incremental: true });
const out: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  await client.query(
    `INSERT INTO trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time)
     SELECT 'rounds-' || $2 || '-' || $3 || '-' || i, ($1::text[])[i % 10 + 1], CASE WHEN i % 4 = 3 THEN 'sell' ELSE 'buy' END,
            0.01, 101.25, 0.0006, (SELECT max(order_time) FROM trade_records) + i * interval '1 s'
       FROM generate_series(0, 99) i`, [symbols, TAG, round]);
  const t0 = performance.now();
  const r = await runCompute(client, session, { version: 1, symbols: null, force: false, incremental: true });
  out.push(performance.now() - t0);
  if (r.symbolsComputed !== 10 || r.tradesProcessed !== 100) console.error(`round ${round}: ${r.symbolsComputed} symbols, ${r.tradesProcessed} trades`);
}
await session.close();
await client.end();
console.log(out.map((ms) => ms.toFixed(1)).join(' '));
