/**
 * Deterministic random ledgers for demos, tests and benchmarks: per symbol a price random
 * walk with buys and sells, sizes up to 8 decimals, fees of 0.6 %. All amounts are built
 * from integers and formatted as decimal text — never through a binary float.
 */

export interface GeneratedTrade {
  order_id: string;
  symbol: string;
  side: 'buy' | 'sell';
  size: string;
  price: string;
  total_fees_usd: string;
  order_time: string;
  source: string;
  trigger: string | null;
}

export interface LedgerOptions {
  trades: number;
  symbols: number;
  seed?: number;
  /** Fraction of sells allowed to exceed the open inventory (0: never — exact baselines). */
  oversellRate?: number;
  start?: Date;
  /** Mean seconds between two trades of one symbol. */
  spacingSeconds?: number;
}

/** mulberry32: small, fast, seedable. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer count of 10^-scale units as decimal text. */
export function unitsToText(units: bigint, scale: number): string {
  const neg = units < 0n;
  const s = (neg ? -units : units).toString().padStart(scale + 1, '0');
  const int = s.slice(0, s.length - scale);
  const frac = s.slice(s.length - scale).replace(/0+$/, '');
  return (neg ? '-' : '') + int + (frac ? `.${frac}` : '');
}

const BASES = ['SOL', 'BTC', 'ETH', 'AVAX', 'DOGE', 'ADA', 'XRP', 'LINK', 'DOT', 'MATIC', 'LTC', 'ATOM', 'UNI', 'NEAR', 'APT',
  'ARB', 'OP', 'SUI', 'SEI', 'INJ', 'TIA', 'PEPE', 'SHIB', 'BONK', 'WIF', 'FET', 'RNDR', 'GRT', 'AAVE', 'MKR'];
const SOURCES = ['scalper', 'momentum', 'grid', 'manual'];
const EXITS = ['take_profit', 'stop_loss', 'trailing_stop', 'timeout'];

export function symbolName(i: number): string {
  const base = BASES[i % BASES.length]!;
  return i < BASES.length ? `${base}-USD` : `${base}${Math.floor(i / BASES.length)}-USD`;
}

/** Trades of `symbols` symbols, interleaved in time, `trades` in all. */
export function generateLedger(opts: LedgerOptions): GeneratedTrade[] {
  const rand = prng(opts.seed ?? 42);
  const oversell = opts.oversellRate ?? 0;
  const start = (opts.start ?? new Date('2026-01-01T00:00:00Z')).getTime();
  const spacing = (opts.spacingSeconds ?? 60) * 1000;
  const perSymbol = Math.floor(opts.trades / opts.symbols);
  const extra = opts.trades - perSymbol * opts.symbols;
  const out: GeneratedTrade[] = [];
  for (let s = 0; s < opts.symbols; s++) {
    const symbol = symbolName(s);
    const n = perSymbol + (s < extra ? 1 : 0);
    // price in 10^-4 units, size in 10^-8 units
    let price = BigInt(Math.floor(10_000 + rand() * 50_000_000));
    let inventory = 0n;
    let t = start + Math.floor(rand() * spacing);
    for (let k = 0; k < n; k++) {
      t += 1 + Math.floor(rand() * 2 * spacing);
      price += (price * BigInt(Math.floor((rand() - 0.5) * 400))) / 10_000n;
      if (price < 100n) price = 100n;
      const wantSell = inventory > 0n && rand() < 0.45;
      const over = rand() < oversell;
      let side: 'buy' | 'sell' = wantSell || over ? 'sell' : 'buy';
      let size: bigint;
      if (side === 'sell') {
        size = over ? inventory + BigInt(1 + Math.floor(rand() * 100_000_000)) : BigInt(1 + Math.floor(rand() * Number(inventory)));
        if (size > inventory && !over) size = inventory;
        if (size <= 0n) { side = 'buy'; size = BigInt(1 + Math.floor(rand() * 500_000_000)); }
      } else {
        size = BigInt(1 + Math.floor(rand() * 500_000_000));
      }
      inventory += side === 'buy' ? size : -size;
      if (inventory < 0n) inventory = 0n;
      // fee = 0.6 % of notional, in 10^-8 USD: price(1e-4) * size(1e-8) * 6/1000 → 1e-12 → /1e4
      const fee = (price * size * 6n) / 1000n / 10_000n;
      out.push({
        order_id: `${symbol}-${String(k).padStart(7, '0')}`,
        symbol,
        side,
        size: unitsToText(size, 8),
        price: unitsToText(price, 4),
        total_fees_usd: unitsToText(fee, 8),
        order_time: new Date(t).toISOString(),
        source: SOURCES[Math.floor(rand() * SOURCES.length)]!,
        trigger: side === 'sell' ? EXITS[Math.floor(rand() * EXITS.length)]! : null,
      });
    }
  }
  return out;
}
