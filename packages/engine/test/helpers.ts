/**
 * Test helpers: an independent tiny decimal arithmetic (BigInt at a fixed scale, written here and
 * not shared with the engine), ledger generators for fast-check, and naive reference allocators.
 */
import fc from 'fast-check';
import type { AllocateResult, AllocationRow, Method, TradeInput } from '../src/index.ts';

// ---------------------------------------------------------------------------------------------
// Reference arithmetic: values as bigint at scale 36 ("R" units).

export const RS = 36;
const TEN = 10n;
const P36 = TEN ** 36n;
const P18 = TEN ** 18n;

/** Parses plain decimal text (engine output or generated input) at scale 36. */
export function R(text: string): bigint {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
  if (!m) throw new Error(`not a decimal: ${text}`);
  const frac = (m[3] ?? '').padEnd(RS, '0');
  if (frac.length > RS) throw new Error(`too many places: ${text}`);
  const v = BigInt((m[2] as string) + frac);
  return m[1] === '-' ? -v : v;
}

/** Canonical text of a scale-36 value. */
export function fmtR(v: bigint): string {
  const neg = v < 0n;
  const a = neg ? -v : v;
  const int = (a / P36).toString();
  const frac = (a % P36).toString().padStart(RS, '0').replace(/0+$/, '');
  const s = frac ? `${int}.${frac}` : int;
  return neg && a !== 0n ? `-${s}` : s;
}

/** a·b for scale-36 values (exact when the product has ≤ 36 places, which holds for inputs ≤ 18 places). */
export function mulR(a: bigint, b: bigint): bigint {
  const p = a * b;
  if (p % P36 !== 0n) throw new Error('mulR inexact');
  return p / P36;
}

/** round(a·b/c) at 18 places, half away from zero, for scale-36 a, b ≥ 0, c > 0; result at scale 36. */
export function mulDivRound18(a: bigint, b: bigint, c: bigint): bigint {
  // exact value at scale 36: a·b/c; at 18 places: a·b/(c·1e18)
  const num = a * b;
  const den = c * P18;
  let q = num / den;
  if ((num % den) * 2n >= den) q += 1n;
  return q * P18;
}

// ---------------------------------------------------------------------------------------------
// Ledger generation.

export const BASE_US = Date.UTC(2024, 0, 1) * 1000;

/** Fixed-width UTC time text from microseconds since the epoch. */
export function timeText(us: number): string {
  const ms = Math.floor(us / 1000);
  return new Date(ms).toISOString().slice(0, 23) + String(us - ms * 1000).padStart(3, '0') + 'Z';
}

/** An amount as text from a coefficient and a scale, optionally with non-canonical padding. */
export function amountText(coef: bigint, scale: number, pad = 0, leadingZero = false): string {
  let s = coef.toString().padStart(scale + 1, '0');
  if (scale > 0) s = `${s.slice(0, s.length - scale)}.${s.slice(s.length - scale)}`;
  if (pad > 0) s = (scale > 0 ? s : `${s}.`) + '0'.repeat(pad);
  if (leadingZero) s = `0${s}`;
  return s;
}

/**
 * Amount regimes: 'nano' = fast-path range (≤ 9 places, < 1e6); 'edge' = fast-path values near its
 * limits (9,007,199.254740991); 'dust' = a few 1e-9 (many exact rounding ties); 'full' = up to
 * 18 places and 1e15; 'tiny' = a few 1e-18; 'mixed' = any of them, per amount.
 */
export type Regime = 'nano' | 'edge' | 'dust' | 'full' | 'tiny' | 'mixed';

export interface AmountSpec {
  coef: bigint;
  scale: number;
  pad: number;
  leadingZero: boolean;
}

export function amountArb(regime: Regime, opts: { max?: 'small' | 'big' } = {}): fc.Arbitrary<AmountSpec> {
  const decorate = (a: fc.Arbitrary<{ coef: bigint; scale: number }>) =>
    fc.tuple(a, fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 }) }), fc.integer({ min: 0, max: 9 }).map((x) => x === 0)).map(
      ([x, pad, lz]) => ({ ...x, pad, leadingZero: lz }),
    );
  const nano = fc.integer({ min: 0, max: 9 }).chain((scale) =>
    fc.bigInt({ min: 1n, max: 10n ** BigInt(Math.min(6 + scale, 15)) - 1n }).map((coef) => ({ coef, scale })),
  );
  const full = fc.integer({ min: 0, max: 18 }).chain((scale) =>
    fc
      .oneof(
        fc.bigInt({ min: 1n, max: 10n ** BigInt(scale + 3) }),
        fc.bigInt({ min: 1n, max: 10n ** BigInt(scale + (opts.max === 'small' ? 6 : 15)) }),
      )
      .map((coef) => ({ coef, scale })),
  );
  const tiny = fc.bigInt({ min: 1n, max: 50n }).map((coef) => ({ coef, scale: 18 }));
  // sizes that are multiples of 2^10 nano units make fee shares land exactly on half a 1e-18
  const dust = fc
    .tuple(fc.bigInt({ min: 1n, max: 64n }), fc.constantFrom(1n, 1n, 1024n, 2048n, 4096n, 3072n))
    .map(([k, m]) => ({ coef: k * m, scale: 9 }));
  const MAXN = 9007199254740991n;
  const edge = fc
    .oneof(fc.bigInt({ min: MAXN - 1000n, max: MAXN }), fc.bigInt({ min: 1n, max: MAXN }), fc.constantFrom(999999999n, 1000000000n, 1000000001n, 9007199000000000n, 8999999999999999n))
    .map((coef) => ({ coef, scale: 9 }));
  switch (regime) {
    case 'nano':
      return decorate(nano);
    case 'full':
      return decorate(full);
    case 'tiny':
      return decorate(tiny);
    case 'dust':
      return decorate(dust);
    case 'edge':
      return decorate(edge);
    case 'mixed':
      return decorate(
        fc.oneof({ weight: 3, arbitrary: nano }, { weight: 2, arbitrary: full }, { weight: 1, arbitrary: tiny }, { weight: 1, arbitrary: dust }, { weight: 1, arbitrary: edge }),
      );
  }
}

export interface StepSpec {
  buy: boolean;
  size: AmountSpec;
  sellFraction: number; // 0 = absolute size, else per-mille of open inventory
  price: AmountSpec;
  fee: AmountSpec | null;
  dtUs: number; // 0 = same time as the previous trade
}

export function stepArb(regime: Regime, buyBias = 0.55): fc.Arbitrary<StepSpec> {
  return fc.record({
    buy: fc.integer({ min: 0, max: 999 }).map((x) => x < buyBias * 1000),
    size: amountArb(regime),
    sellFraction: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 1000 }), fc.constant(1000)),
    price: amountArb(regime === 'tiny' || regime === 'dust' ? 'nano' : regime),
    fee: fc.oneof(
      { weight: 1, arbitrary: fc.constant(null) },
      { weight: 2, arbitrary: amountArb(regime === 'mixed' || regime === 'edge' ? 'nano' : regime, { max: 'small' }) },
    ),
    dtUs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 5_000_000 }), fc.integer({ min: 1, max: 3 })),
  });
}

/**
 * Builds a valid ledger (processing order, unique ids) from step specs. With `noOversell`, sells
 * never exceed the open inventory (a sell with nothing open becomes a buy).
 */
export function buildLedger(symbol: string, steps: readonly StepSpec[], noOversell = false, idPrefix = 'o'): TradeInput[] {
  const trades: TradeInput[] = [];
  let us = BASE_US;
  let inventory = 0n; // scale 36
  steps.forEach((st, i) => {
    us += st.dtUs;
    let buy = st.buy;
    let sizeText = amountText(st.size.coef, st.size.scale, st.size.pad, st.size.leadingZero);
    if (!buy) {
      if (st.sellFraction > 0 && inventory > 0n) {
        // a per-mille of the open inventory, truncated to 18 places
        const v = ((inventory * BigInt(st.sellFraction)) / 1000n / P18) * P18;
        if (v > 0n) sizeText = fmtR(v);
      }
      if (noOversell) {
        if (inventory === 0n) buy = true;
        else if (R(sizeText) > inventory) sizeText = fmtR(inventory);
      }
    }
    const size = R(sizeText);
    inventory = buy ? inventory + size : inventory > size ? inventory - size : 0n;
    trades.push({
      orderId: `${idPrefix}${String(i).padStart(6, '0')}`,
      symbol,
      side: buy ? 'buy' : 'sell',
      size: sizeText,
      price: amountText(st.price.coef, st.price.scale, st.price.pad),
      fee: st.fee === null ? (i % 2 ? '0' : '0.00') : amountText(st.fee.coef, st.fee.scale, st.fee.pad),
      time: timeText(us),
    });
  });
  // processing order: time, buys before sells, orderId (ids are ASCII)
  trades.sort((a, b) => (a.time !== b.time ? (a.time < b.time ? -1 : 1) : a.side !== b.side ? (a.side === 'buy' ? -1 : 1) : a.orderId < b.orderId ? -1 : 1));
  return trades;
}

export function ledgerArb(opts: { regime?: Regime; minLength?: number; maxLength: number; noOversell?: boolean; symbol?: string; buyBias?: number }): fc.Arbitrary<TradeInput[]> {
  const regimeArb: fc.Arbitrary<Regime> = opts.regime
    ? fc.constant(opts.regime)
    : fc.constantFrom<Regime>('nano', 'nano', 'nano', 'edge', 'dust', 'dust', 'full', 'full', 'tiny', 'mixed', 'mixed');
  return regimeArb.chain((regime) =>
    fc
      .array(stepArb(regime, opts.buyBias), { minLength: opts.minLength ?? 0, maxLength: opts.maxLength, size: 'max' })
      .map((steps) => buildLedger(opts.symbol ?? 'SOL-USD', steps, opts.noOversell ?? false)),
  );
}

// ---------------------------------------------------------------------------------------------
// Naive reference allocator (all methods), full rows, own arithmetic. O(n · open lots).

interface RefLot {
  t: TradeInput;
  ord: number;
  size: bigint;
  price: bigint;
  fee: bigint;
  remaining: bigint;
  feeTaken: bigint;
}

export function referenceAllocate(trades: readonly TradeInput[], method: Method): AllocationRow[] {
  const rows: AllocationRow[] = [];
  const open: RefLot[] = [];
  let ord = 0;
  for (const t of trades) {
    if (t.side === 'buy') {
      open.push({ t, ord: ord++, size: R(t.size), price: R(t.price), fee: R(t.fee), remaining: R(t.size), feeTaken: 0n });
      continue;
    }
    const sellSize = R(t.size);
    const sellPrice = R(t.price);
    const sellFee = R(t.fee);
    let matched = 0n;
    let sellTaken = 0n;
    let seq = 0;
    while (matched < sellSize && open.length > 0) {
      // pick the lot by method
      let best = 0;
      for (let i = 1; i < open.length; i++) {
        const a = open[i] as RefLot;
        const b = open[best] as RefLot;
        const better =
          method === 'fifo' ? a.ord < b.ord : method === 'lifo' ? a.ord > b.ord : a.price > b.price || (a.price === b.price && a.ord < b.ord);
        if (better) best = i;
      }
      const lot = open[best] as RefLot;
      const alloc = lot.remaining < sellSize - matched ? lot.remaining : sellSize - matched;
      matched += alloc;
      const consumed = lot.size - lot.remaining + alloc;
      const buyCum = mulDivRound18(lot.fee, consumed, lot.size);
      const buyShare = buyCum - lot.feeTaken;
      lot.feeTaken = buyCum;
      lot.remaining -= alloc;
      const sellCum = mulDivRound18(sellFee, matched, sellSize);
      const sellShare = sellCum - sellTaken;
      sellTaken = sellCum;
      const cost = mulR(lot.price, alloc) + buyShare;
      const proceeds = mulR(sellPrice, alloc) - sellShare;
      rows.push({
        symbol: t.symbol,
        sellOrderId: t.orderId,
        buyOrderId: lot.t.orderId,
        seq: ++seq,
        allocatedSize: fmtR(alloc),
        buyPrice: fmtR(lot.price),
        sellPrice: fmtR(sellPrice),
        buyTime: lot.t.time,
        sellTime: t.time,
        buyFee: fmtR(buyShare),
        sellFee: fmtR(sellShare),
        costBasis: fmtR(cost),
        proceeds: fmtR(proceeds),
        pnl: fmtR(proceeds - cost),
      });
      if (lot.remaining === 0n) open.splice(best, 1);
    }
    if (matched < sellSize) {
      const rest = sellSize - matched;
      const sellShare = sellFee - sellTaken;
      rows.push({
        symbol: t.symbol,
        sellOrderId: t.orderId,
        buyOrderId: null,
        seq: ++seq,
        allocatedSize: fmtR(rest),
        buyPrice: null,
        sellPrice: fmtR(sellPrice),
        buyTime: null,
        sellTime: t.time,
        buyFee: null,
        sellFee: fmtR(sellShare),
        costBasis: null,
        proceeds: fmtR(mulR(sellPrice, rest) - sellShare),
        pnl: null,
      });
    }
  }
  return rows;
}

/**
 * FIFO by the cumulative-range formulation (no oversells): buy k covers [B_{k-1}, B_k) of the
 * cumulative bought quantity, sell j covers [S_{j-1}, S_j) of the cumulative sold quantity; the
 * allocation of (j, k) is the overlap length. Returns "sellId>buyId" → size (scale 36).
 */
export function fifoOverlap(trades: readonly TradeInput[]): Map<string, bigint> {
  const buys: { id: string; lo: bigint; hi: bigint }[] = [];
  const sells: { id: string; lo: bigint; hi: bigint }[] = [];
  let b = 0n;
  let s = 0n;
  for (const t of trades) {
    const q = R(t.size);
    if (t.side === 'buy') {
      buys.push({ id: t.orderId, lo: b, hi: b + q });
      b += q;
    } else {
      sells.push({ id: t.orderId, lo: s, hi: s + q });
      s += q;
    }
  }
  const out = new Map<string, bigint>();
  for (const sl of sells) {
    for (const bu of buys) {
      const lo = sl.lo > bu.lo ? sl.lo : bu.lo;
      const hi = sl.hi < bu.hi ? sl.hi : bu.hi;
      if (hi > lo) out.set(`${sl.id}>${bu.id}`, hi - lo);
    }
  }
  return out;
}

/** Deep-freezes a value (inputs must not be mutated by the engine). */
export function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object') {
    for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
    Object.freeze(v);
  }
  return v;
}

// ---------------------------------------------------------------------------------------------
// The invariants of docs/CONTRACT.md §6.1, checked on the engine's output with the reference arithmetic.

function check(cond: boolean, msg: () => string): void {
  if (!cond) throw new Error(msg());
}

const isCanonical = (x: string): boolean => fmtR(parse36(x)) === x;
const parse36 = (t: string): bigint => R(t);

/** Throws when any invariant is violated. */
export function checkInvariants(trades: readonly TradeInput[], res: AllocateResult, method: Method): void {
  const memo = new Map<string, bigint>();
  const R = (t: string): bigint => {
    let v = memo.get(t);
    if (v === undefined) {
      v = parse36(t);
      memo.set(t, v);
    }
    return v;
  };
  const byId = new Map<string, { t: TradeInput; index: number }>();
  trades.forEach((t, index) => byId.set(t.orderId, { t, index }));
  const perBuy = new Map<string, { alloc: bigint; fee: bigint }>();
  const perSell = new Map<string, { alloc: bigint; fee: bigint; rows: AllocationRow[] }>();
  const sellOrder: string[] = [];
  for (const row of res.rows) {
    const sell = byId.get(row.sellOrderId);
    check(sell !== undefined && sell.t.side === 'sell', () => `row references unknown sell ${row.sellOrderId}`);
    const st = sell!.t;
    for (const k of ['allocatedSize', 'sellPrice', 'sellFee', 'proceeds'] as const) check(isCanonical(row[k]), () => `${k} not canonical: ${row[k]}`);
    for (const k of ['buyPrice', 'buyFee', 'costBasis', 'pnl'] as const) {
      const v = row[k];
      if (v !== null) check(isCanonical(v), () => `${k} not canonical: ${v}`);
    }
    const alloc = R(row.allocatedSize);
    check(alloc > 0n, () => `allocated_size must be > 0 (${row.sellOrderId})`);
    check(row.sellTime === st.time && R(row.sellPrice) === R(st.price) && row.symbol === st.symbol, () => 'sell facts not copied');
    let ps = perSell.get(row.sellOrderId);
    if (!ps) {
      ps = { alloc: 0n, fee: 0n, rows: [] };
      perSell.set(row.sellOrderId, ps);
      sellOrder.push(row.sellOrderId);
    }
    check(row.seq === ps.rows.length + 1, () => `seq ${row.seq} out of order for ${row.sellOrderId}`);
    check(ps.rows.length === 0 || ps.rows[ps.rows.length - 1]!.buyOrderId !== null, () => 'row after the unmatched row');
    ps.rows.push(row);
    ps.alloc += alloc;
    const sellShare = R(row.sellFee);
    ps.fee += sellShare;
    // sell share within 1e-18 of fee × alloc / size: |share·size − fee·alloc| ≤ 1e-18·size (scale 36 → units)
    const sSize = R(st.size);
    check(absDiffWithin(sellShare, R(st.fee), alloc, sSize), () => `sell fee share off: ${row.sellFee} for ${row.sellOrderId}`);
    check(sellShare >= 0n, () => 'negative sell share');
    check(R(row.proceeds) === mulR(R(row.sellPrice), alloc) - sellShare, () => `proceeds formula (${row.sellOrderId})`);
    if (row.buyOrderId === null) {
      check(row.buyPrice === null && row.buyTime === null && row.buyFee === null && row.costBasis === null && row.pnl === null, () => 'unmatched row with buy data');
      continue;
    }
    const buy = byId.get(row.buyOrderId);
    check(buy !== undefined && buy.t.side === 'buy', () => `row references unknown buy ${row.buyOrderId}`);
    const bt = buy!.t;
    check(buy!.index < sell!.index, () => `buy ${bt.orderId} used before it was processed`);
    check(bt.time <= st.time, () => `buy ${bt.orderId} used before its time`);
    check(row.buyTime === bt.time && R(row.buyPrice!) === R(bt.price), () => 'buy facts not copied');
    const buyShare = R(row.buyFee!);
    check(buyShare >= 0n, () => 'negative buy share');
    check(absDiffWithin(buyShare, R(bt.fee), alloc, R(bt.size)), () => `buy fee share off: ${row.buyFee}`);
    const cost = R(row.costBasis!);
    check(cost === mulR(R(row.buyPrice!), alloc) + buyShare, () => `cost formula (${row.sellOrderId}/${row.buyOrderId})`);
    check(R(row.pnl!) === R(row.proceeds) - cost, () => 'pnl formula');
    const pb = perBuy.get(row.buyOrderId) ?? { alloc: 0n, fee: 0n };
    pb.alloc += alloc;
    pb.fee += buyShare;
    perBuy.set(row.buyOrderId, pb);
  }
  // every sell has rows, in processing order; sums
  const sells = trades.filter((t) => t.side === 'sell');
  check(sellOrder.length === sells.length && sells.every((t, i) => sellOrder[i] === t.orderId), () => 'sells missing or out of order in rows');
  const reviewsById = new Map(res.reviews.map((r) => [r.orderId, r]));
  check(reviewsById.size === res.reviews.length, () => 'duplicate review');
  for (const t of sells) {
    const ps = perSell.get(t.orderId)!;
    check(ps.alloc === R(t.size), () => `Σ allocated ≠ sell size for ${t.orderId}`);
    check(ps.fee === R(t.fee), () => `Σ sell fee shares ≠ fee for ${t.orderId}`);
    const last = ps.rows[ps.rows.length - 1]!;
    const review = reviewsById.get(t.orderId);
    if (last.buyOrderId === null) {
      check(review !== undefined, () => `no review for unmatched ${t.orderId}`);
      const un = R(last.allocatedSize);
      check(R(review!.details.unmatched) === un && R(review!.details.requested) === R(t.size), () => 'review numbers');
      check(R(review!.details.available) === R(t.size) - un, () => 'review available');
      check(review!.severity === (R(t.size) === un ? 'critical' : un * 1000n <= R(t.size) ? 'medium' : 'high'), () => 'severity');
      check(review!.issueType === 'unmatched_sell' && review!.details.sellTime === t.time, () => 'review fields');
    } else check(review === undefined, () => `review for matched sell ${t.orderId}`);
  }
  // buys: Σ ≤ size; fully consumed → Σ fee shares = fee; open lots = the rest
  const expectedLots: { orderId: string; remaining: bigint }[] = [];
  for (const t of trades) {
    if (t.side !== 'buy') continue;
    const pb = perBuy.get(t.orderId) ?? { alloc: 0n, fee: 0n };
    const size = R(t.size);
    check(pb.alloc <= size, () => `Σ allocated > buy size for ${t.orderId}`);
    if (pb.alloc === size) check(pb.fee === R(t.fee), () => `Σ buy fee shares ≠ fee for fully consumed ${t.orderId}`);
    else {
      check(pb.fee <= R(t.fee), () => 'buy shares exceed fee');
      expectedLots.push({ orderId: t.orderId, remaining: size - pb.alloc });
    }
  }
  const lots = res.state.lots;
  check(lots.length === expectedLots.length, () => `open lots: ${lots.length} ≠ ${expectedLots.length}`);
  lots.forEach((l, i) => {
    const e = expectedLots[i]!;
    check(l.orderId === e.orderId && R(l.remaining) === e.remaining && isCanonical(l.remaining), () => `open lot ${i} differs`);
  });
  check(res.state.method === method, () => 'state method');
}

/** |share − fee·alloc/size| ≤ 1e-18, all scale-36 values: |share·size − fee·alloc| ≤ 1e-18·size. */
function absDiffWithin(share: bigint, fee: bigint, alloc: bigint, size: bigint): boolean {
  const d = share * size - fee * alloc; // scale 72
  const tol = size * 10n ** 18n; // 1e-18 at scale 36 is 1e18 units; × size
  return (d < 0n ? -d : d) <= tol;
}
