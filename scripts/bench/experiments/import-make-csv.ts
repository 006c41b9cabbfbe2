/**
 * Issue 11 import experiments: the bench's Coinbase fills CSV (run-all.bench.ts step 5b: the
 * same writer, trades and seed), written once.
 *   tsx scripts/bench/experiments/import-make-csv.ts [/tmp/fifo-import-1m.csv] [lines] [symbols]
 */
import { streamTrades, writeCoinbaseCsv } from '../lib/stream-ledger.ts';

const path = process.argv[2] ?? '/tmp/fifo-import-1m.csv';
const lines = Number(process.argv[3] ?? 1_000_000);
const symbols = Number(process.argv[4] ?? 1_000);
const t0 = performance.now();
const n = await writeCoinbaseCsv(path, streamTrades(lines, symbols, 8));
console.log(`${path}: ${n} lines in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
