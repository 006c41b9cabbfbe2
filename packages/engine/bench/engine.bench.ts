/**
 * Allocation engine benchmark: 1,000,000 trades over 1,000 symbols, in memory.
 *
 *   pnpm bench:engine [-- --trades=1000000 --symbols=1000 --methods=fifo,lifo,hifo --chunk=100 --batches=1 --fee-places=8]
 *
 * Input is generated outside the timed section, `--chunk` symbols at a time (default 10 symbols
 * = 10,000 trades held in memory, like a caller that reads one symbol's trades at a time); each
 * symbol's rows are counted and dropped, as a caller that writes them out would. `--chunk=1000`
 * holds the whole 1M-trade input at once (peak RSS is then dominated by the ~1M input objects). `--batches=k` feeds each symbol in k batches with a JSON round
 * trip of the state between batches (the incremental path); the JSON work is timed too.
 *
 * Ledger shape: per symbol, a random-walk price with 2–8 decimal places, sizes with up to 8
 * places, fees ≈ 0.1% of notional (8 places, or --fee-places; 20% of fills fee-free), ~55% buys, sells of 10–80%
 * of the open inventory, ~0.5% oversells, same-microsecond ties.
 */
import os from 'node:os';
import { allocate, emptyState } from '../src/index.ts';
import type { Method, SymbolState, TradeInput } from '../src/index.ts';

function arg(name: string, dflt: string): string {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : dflt;
}
const TOTAL = Number(arg('trades', '1000000'));
const SYMBOLS = Number(arg('symbols', '1000'));
const CHUNK = Number(arg('chunk', '10'));
const BATCHES = Number(arg('batches', '1'));
const METHODS = arg('methods', 'fifo,lifo,hifo').split(',').filter(Boolean) as Method[];
/** Decimal places of fees: 8 (default) stays in the fast kernel's range; > 9 (e.g. 12) exercises the BigInt kernel. */
const FEE_PLACES = Number(arg('fee-places', '8'));
const PER_SYMBOL = Math.floor(TOTAL / SYMBOLS);

// Deterministic PRNG (mulberry32).
let seed = 0x9e3779b9;
function rnd(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
function randInt(lo: number, hi: number): number {
  return lo + Math.floor(rnd() * (hi - lo + 1));
}
/** Text of an integer count of 10^-scale units (generator only; exact via bigint). */
function fixedText(units: bigint, scale: number): string {
  const s = units.toString().padStart(scale + 1, '0');
  const int = s.slice(0, s.length - scale);
  const frac = s.slice(s.length - scale).replace(/0+$/, '');
  return frac ? `${int}.${frac}` : int;
}

const START_MS = Date.UTC(2024, 0, 1);
function genSymbol(symbolIndex: number): TradeInput[] {
  const symbol = `S${symbolIndex}-USD`;
  const pd = randInt(2, 8);
  let priceUnits = BigInt(randInt(1, 5_000_000)) * 10n ** BigInt(Math.max(0, pd - 2)); // 0.01 .. 50,000
  let inventory = 0n; // at 8 dp
  let ms = START_MS + randInt(0, 1e9);
  let micro = 0;
  const out: TradeInput[] = new Array(PER_SYMBOL);
  for (let i = 0; i < PER_SYMBOL; i++) {
    if (rnd() < 0.9) {
      micro += randInt(1, 999);
      if (micro > 999) {
        ms += Math.floor(micro / 1000) + randInt(0, 60_000);
        micro %= 1000;
      }
    } // else: same microsecond as the previous trade (a tie)
    const time = new Date(ms).toISOString().slice(0, 23) + String(micro).padStart(3, '0') + 'Z';
    const step = priceUnits / 200n;
    priceUnits += step > 0n ? BigInt(randInt(-1000, 1000)) * step / 1000n : 0n;
    if (priceUnits <= 0n) priceUnits = 1n;
    const isBuy = inventory === 0n ? rnd() < 0.95 : rnd() < 0.55;
    let sizeUnits: bigint;
    if (isBuy) sizeUnits = BigInt(randInt(1, 1_000_000_000)) * 10n ** BigInt(randInt(0, 2)); // ≤ 100 with 8 dp
    else if (rnd() < 0.005 || inventory === 0n) sizeUnits = inventory + BigInt(randInt(1, 100_000_000)); // oversell
    else sizeUnits = (inventory * BigInt(randInt(10, 80))) / 100n || 1n;
    inventory = isBuy ? inventory + sizeUnits : inventory > sizeUnits ? inventory - sizeUnits : 0n;
    // fee ≈ 0.1% of notional, at FEE_PLACES dp (from 8-dp sizes)
    const feeUnits = rnd() < 0.2 ? 0n : (priceUnits * sizeUnits * 10n ** BigInt(FEE_PLACES)) / (10n ** BigInt(pd + 8) * 1000n);
    out[i] = {
      orderId: `${symbol}-${String(i).padStart(7, '0')}-${randInt(0, 1e9).toString(36)}`,
      symbol,
      side: isBuy ? 'buy' : 'sell',
      size: fixedText(sizeUnits, 8),
      price: fixedText(priceUnits, pd),
      fee: fixedText(feeUnits, FEE_PLACES),
      time,
    };
  }
  out.sort((a, b) => (a.time !== b.time ? (a.time < b.time ? -1 : 1) : a.side !== b.side ? (a.side === 'buy' ? -1 : 1) : a.orderId < b.orderId ? -1 : 1));
  return out;
}

/** Allocates one symbol; returns the number of rows (rows are dropped after counting, as a caller writing them out would). */
function runSymbol(method: Method, trades: TradeInput[]): number {
  let state: SymbolState = emptyState((trades[0] as TradeInput).symbol, method);
  if (BATCHES <= 1) return allocate(state, trades).rows.length;
  let rows = 0;
  const per = Math.ceil(trades.length / BATCHES);
  for (let b = 0; b < trades.length; b += per) {
    const r = allocate(state, trades.slice(b, b + per));
    state = JSON.parse(JSON.stringify(r.state)) as SymbolState;
    rows += r.rows.length;
  }
  return rows;
}

const rssBefore = process.memoryUsage().rss;
const elapsed: Record<string, number> = {};
const cpuTime: Record<string, number> = {};
const rowCount: Record<string, number> = {};
for (const m of METHODS) {
  elapsed[m] = 0;
  cpuTime[m] = 0;
  rowCount[m] = 0;
}
let generated = 0;
let oversells = 0;
for (let c = 0; c < SYMBOLS; c += CHUNK) {
  const chunk: TradeInput[][] = [];
  // Through JSON, as rows arrive from the database: flat strings, not the generator's concatenations.
  for (let s = c; s < Math.min(SYMBOLS, c + CHUNK); s++) chunk.push(JSON.parse(JSON.stringify(genSymbol(s))) as TradeInput[]);
  for (const m of METHODS) {
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    let rows = 0;
    for (const trades of chunk) rows += runSymbol(m, trades);
    const c1 = process.cpuUsage(c0);
    elapsed[m] = (elapsed[m] as number) + Number(process.hrtime.bigint() - t0) / 1e9;
    cpuTime[m] = (cpuTime[m] as number) + (c1.user + c1.system) / 1e6;
    rowCount[m] = (rowCount[m] as number) + rows;
  }
  for (const trades of chunk) {
    generated += trades.length;
    if (METHODS.length > 0) oversells += allocate(emptyState((trades[0] as TradeInput).symbol, 'fifo'), trades).reviews.length;
  }
}

const cpuModel = os.cpus()[0]?.model ?? 'unknown CPU';
console.log(
  `machine: ${cpuModel} (${os.cpus().length} logical CPUs), node ${process.version}, ${os.platform()} ${os.arch()}; load average ${os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);
console.log(
  `input: ${generated.toLocaleString('en-US')} trades over ${SYMBOLS} symbols (${oversells} oversells, fees with ${FEE_PLACES} places); generated ${CHUNK} symbols at a time outside the timed section; ${BATCHES} batch(es) per symbol`,
);
for (const m of METHODS) {
  const secs = elapsed[m] as number;
  const cpu = cpuTime[m] as number;
  console.log(
    `${m}: ${Math.round(generated / secs).toLocaleString('en-US')} trades/s, total ${(secs * 1000).toFixed(0)} ms wall ` +
      `(process CPU time ${(cpu * 1000).toFixed(0)} ms = ${Math.round(generated / cpu).toLocaleString('en-US')} trades per CPU-second, GC threads included), ` +
      `${(rowCount[m] as number).toLocaleString('en-US')} allocation rows`,
  );
}
const mu = process.memoryUsage();
console.log(
  `peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(1)} MB (RSS of the process before generating input: ${(rssBefore / 1048576).toFixed(1)} MB; now ${(mu.rss / 1048576).toFixed(1)} MB, heap used ${(mu.heapUsed / 1048576).toFixed(1)} MB)`,
);
