/**
 * Issue 11 experiment: the host's cost of preparing one write, joined texts (the procedure
 * before) against binary arrays (binary-arrays.ts), on rows the engine made (its own strings,
 * cons strings included), alternated in one process; CPU time of the process (the machine is shared).
 *
 *   DATABASE_URL=… pnpm exec tsx scripts/bench/experiments/exp10-encode-cost.ts [symbols] [rounds]
 */
import { allocate, emptyState, type AllocationRow, type TradeInput } from '../../../packages/engine/src/index.ts';
import { encodeArray } from '../../../packages/plv8/src/host/binary-arrays.ts';
import { connect, median } from './lib.ts';

const SYMBOLS = Number(process.argv[2] ?? 200);
const ROUNDS = Number(process.argv[3] ?? 7);
const UTC_TEXT = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`;
const c = await connect();
const { rows: trades } = await c.query<TradeInput & { symbol: string }>(
  `SELECT order_id AS "orderId", symbol, side, size::text AS size, price::text AS price, total_fees_usd::text AS fee,
          to_char(order_time AT TIME ZONE 'UTC', ${UTC_TEXT}) AS time
     FROM trade_records WHERE symbol IN (SELECT DISTINCT symbol FROM trade_records ORDER BY 1 LIMIT $1)
    ORDER BY symbol, order_time, side = 'sell', order_id COLLATE "C"`, [SYMBOLS]);
await c.end();
const bySymbol = new Map<string, TradeInput[]>();
for (const t of trades) (bySymbol.get(t.symbol) ?? bySymbol.set(t.symbol, []).get(t.symbol)!).push(t);

function quoted(s: string | null): string {
  if (s === null) return 'NULL';
  if (/^[^\s"\\{},]+$/.test(s) && !(s.length === 4 && s.toUpperCase() === 'NULL')) return s;
  return `"${s.replace(/[\\"]/g, '\\$&')}"`;
}
function joined(rows: readonly AllocationRow[]): number {
  const n = rows.length;
  const cols: string[][] = Array.from({ length: 12 }, () => new Array(n));
  for (let i = 0; i < n; i++) {
    const r = rows[i]!;
    cols[0]![i] = quoted(r.symbol); cols[1]![i] = quoted(r.sellOrderId); cols[2]![i] = String(r.seq); cols[3]![i] = quoted(r.buyOrderId);
    cols[4]![i] = r.allocatedSize; cols[5]![i] = r.buyPrice ?? ''; cols[6]![i] = r.sellPrice; cols[7]![i] = r.buyTime ?? '';
    cols[8]![i] = r.sellTime; cols[9]![i] = r.buyFee ?? ''; cols[10]![i] = r.sellFee; cols[11]![i] = quoted(r.account ?? 'default');
  }
  let bytes = 0;
  for (const [k, col] of cols.entries()) bytes += ([0, 1, 3, 11].includes(k) ? `{${col.join(',')}}` : col.join('\n')).length;
  return bytes;
}
function binary(rows: readonly AllocationRow[]): number {
  const n = rows.length;
  const cols: unknown[][] = Array.from({ length: 12 }, () => new Array(n));
  for (let i = 0; i < n; i++) {
    const r = rows[i]!;
    cols[0]![i] = r.symbol; cols[1]![i] = r.sellOrderId; cols[2]![i] = r.seq; cols[3]![i] = r.buyOrderId;
    cols[4]![i] = r.allocatedSize; cols[5]![i] = r.buyPrice; cols[6]![i] = r.sellPrice; cols[7]![i] = r.buyTime;
    cols[8]![i] = r.sellTime; cols[9]![i] = r.buyFee; cols[10]![i] = r.sellFee; cols[11]![i] = r.account ?? 'default';
  }
  const types = ['text', 'text', 'int4', 'text', 'numeric', 'numeric', 'numeric', 'timestamptz', 'timestamptz', 'numeric', 'numeric', 'text'] as const;
  let bytes = 0;
  for (const [k, col] of cols.entries()) {
    const t0 = performance.now();
    bytes += encodeArray(types[k]!, col)!.length;
    perColumn[k] = (perColumn[k] ?? 0) + performance.now() - t0;
  }
  return bytes;
}
const perColumn: number[] = [];
const times: Record<string, number[]> = { joined: [], binary: [] };
let nrows = 0;
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, f] of [['joined', joined], ['binary', binary]] as const) {
    let ms = 0;
    nrows = 0;
    for (const [symbol, ts] of bySymbol) {
      const rows = allocate(emptyState(symbol, 'fifo'), ts).rows; // fresh engine strings every round
      const t0 = process.cpuUsage();
      f(rows);
      const d = process.cpuUsage(t0);
      ms += (d.user + d.system) / 1000;
      nrows += rows.length;
    }
    times[name]!.push(ms);
  }
}
for (const [name, xs] of Object.entries(times)) console.log(`${name.padEnd(7)} ${xs.map((x) => x.toFixed(0)).join(', ')} ms (median ${median(xs).toFixed(0)}) for ${nrows} rows: ${(median(xs) * 1e6 / nrows).toFixed(0)} ns/row`);
console.log('binary per column (ms, all rounds):', perColumn.map((x) => x.toFixed(0)).join(' '));
