/**
 * Issue 11 experiments: load the bench ledger into $DATABASE_URL (already migrated), as the
 * bench does (scripts/bench/lib/ledger.ts), then VACUUM ANALYZE.
 *   DATABASE_URL=.../fifo_exp tsx scripts/bench/experiments/setup.ts [trades] [symbols]
 */
import pg from 'pg';
import { loadLedger } from '../lib/ledger.ts';

const TRADES = Number(process.argv[2] ?? 1_000_000);
const SYMBOLS = Number(process.argv[3] ?? 1_000);
const url = process.env.DATABASE_URL!;
const client = new pg.Client({ connectionString: url });
await client.connect();
const r = await loadLedger(client, url, TRADES, SYMBOLS, 7);
console.log(`loaded ${r.trades} trades / ${r.symbols} symbols: generate ${r.generateMs.toFixed(0)} ms, copy ${r.copyMs.toFixed(0)} ms via ${r.via}`);
await client.query('VACUUM ANALYZE trade_records');
await client.end();
