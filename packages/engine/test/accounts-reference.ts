/**
 * Test-local reference for per_account pooling (docs/CONTRACT.md §5): exact rationals (BigInt
 * numerator/denominator, written here, sharing nothing with the engine), a linear scan for the
 * next lot, and plain arrays per account. Slow and obvious on purpose.
 */
import fc from 'fast-check';
import { isTransfer } from '../src/index.ts';
import type { AllocationRow, LedgerEvent, Method, OpenLot, ReviewItem, TradeInput, TransferInput } from '../src/index.ts';
import { BASE_US, amountArb, amountText, timeText } from './helpers.ts';
import type { AmountSpec, Regime } from './helpers.ts';

// ---- exact rationals -----------------------------------------------------------------------

function gcd(a: bigint, b: bigint): bigint {
  a = a < 0n ? -a : a;
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

export class Q {
  readonly n: bigint;
  readonly d: bigint;
  constructor(n: bigint, d = 1n) {
    if (d < 0n) [n, d] = [-n, -d];
    const g = gcd(n, d) || 1n;
    this.n = n / g;
    this.d = d / g;
  }
  static of(text: string): Q {
    const m = /^(-?)(\d+)(?:\.(\d*))?$/.exec(text);
    if (!m) throw new Error(`not a decimal: ${text}`);
    const frac = m[3] ?? '';
    const v = BigInt((m[2] as string) + frac);
    return new Q(m[1] === '-' ? -v : v, 10n ** BigInt(frac.length));
  }
  add(o: Q): Q {
    return new Q(this.n * o.d + o.n * this.d, this.d * o.d);
  }
  sub(o: Q): Q {
    return new Q(this.n * o.d - o.n * this.d, this.d * o.d);
  }
  mul(o: Q): Q {
    return new Q(this.n * o.n, this.d * o.d);
  }
  div(o: Q): Q {
    return new Q(this.n * o.d, this.d * o.n);
  }
  cmp(o: Q): number {
    const x = this.n * o.d - o.n * this.d;
    return x < 0n ? -1 : x > 0n ? 1 : 0;
  }
  isZero(): boolean {
    return this.n === 0n;
  }
  /** Rounded at 18 places, half away from zero (≥ 0 here). */
  round18(): Q {
    const s = 10n ** 18n;
    const num = this.n * s;
    let q = num / this.d;
    if ((num - q * this.d) * 2n >= this.d) q += 1n;
    return new Q(q, s);
  }
  /** Canonical plain decimal (the value must be a finite decimal). */
  text(): string {
    let scale = 0;
    while ((10n ** BigInt(scale)) % this.d !== 0n) {
      if (++scale > 80) throw new Error('not a finite decimal');
    }
    const units = (this.n * 10n ** BigInt(scale)) / this.d;
    const neg = units < 0n;
    const a = neg ? -units : units;
    const p = 10n ** BigInt(scale);
    const int = (a / p).toString();
    const frac = scale === 0 ? '' : (a % p).toString().padStart(scale, '0').replace(/0+$/, '');
    const s = frac ? `${int}.${frac}` : int;
    return neg && a !== 0n ? `-${s}` : s;
  }
}

const ZERO = new Q(0n);
const min = (a: Q, b: Q): Q => (a.cmp(b) <= 0 ? a : b);

// ---- the reference allocator ------------------------------------------------------------------

interface RefBuy {
  t: TradeInput;
  ord: number;
  size: Q;
  price: Q;
  fee: Q;
  consumed: Q;
  feeTaken: Q;
}
interface RefPiece {
  buy: RefBuy;
  remaining: Q;
}

export interface RefResult {
  rows: AllocationRow[];
  reviews: ReviewItem[];
  lots: OpenLot[];
}

function best(method: Method, pieces: readonly RefPiece[]): number {
  let k = 0;
  for (let i = 1; i < pieces.length; i++) {
    const a = (pieces[i] as RefPiece).buy;
    const b = (pieces[k] as RefPiece).buy;
    const better =
      method === 'fifo' ? a.ord < b.ord : method === 'lifo' ? a.ord > b.ord : a.price.cmp(b.price) > 0 || (a.price.cmp(b.price) === 0 && a.ord < b.ord);
    if (better) k = i;
  }
  return k;
}

const cmpCodePoints = (a: string, b: string): number => Math.sign(Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));

/** Events must be in processing order. */
export function referenceAccounts(events: readonly LedgerEvent[], method: Method): RefResult {
  const rows: AllocationRow[] = [];
  const reviews: ReviewItem[] = [];
  const books = new Map<string, RefPiece[]>();
  const book = (a: string): RefPiece[] => {
    let b = books.get(a);
    if (!b) books.set(a, (b = []));
    return b;
  };
  let ord = 0;
  for (const e of events) {
    if (isTransfer(e)) {
      const src = book(e.account);
      const dst = book(e.toAccount);
      const size = Q.of(e.size);
      let moved = ZERO;
      while (moved.cmp(size) < 0 && src.length > 0) {
        const i = best(method, src);
        const p = src[i] as RefPiece;
        const take = min(p.remaining, size.sub(moved));
        moved = moved.add(take);
        p.remaining = p.remaining.sub(take);
        if (p.remaining.isZero()) src.splice(i, 1);
        const there = dst.find((x) => x.buy === p.buy);
        if (there) there.remaining = there.remaining.add(take);
        else dst.push({ buy: p.buy, remaining: take });
      }
      if (moved.cmp(size) < 0) {
        reviews.push({
          issueType: 'unmatched_transfer',
          symbol: e.symbol,
          orderId: e.orderId,
          severity: 'high',
          details: {
            transferId: e.orderId,
            fromAccount: e.account,
            toAccount: e.toAccount,
            requested: size.text(),
            available: moved.text(),
            unmatched: size.sub(moved).text(),
            transferTime: e.time,
          },
        });
      }
      continue;
    }
    const account = e.account ?? 'default';
    if (e.side === 'buy') {
      const size = Q.of(e.size);
      book(account).push({ buy: { t: e, ord: ord++, size, price: Q.of(e.price), fee: Q.of(e.fee), consumed: ZERO, feeTaken: ZERO }, remaining: size });
      continue;
    }
    const pieces = book(account);
    const sellSize = Q.of(e.size);
    const sellPrice = Q.of(e.price);
    const sellFee = Q.of(e.fee);
    let matched = ZERO;
    let sellTaken = ZERO;
    let seq = 0;
    while (matched.cmp(sellSize) < 0 && pieces.length > 0) {
      const i = best(method, pieces);
      const p = pieces[i] as RefPiece;
      const lot = p.buy;
      const alloc = min(p.remaining, sellSize.sub(matched));
      matched = matched.add(alloc);
      lot.consumed = lot.consumed.add(alloc);
      const buyCum = lot.fee.mul(lot.consumed).div(lot.size).round18();
      const buyShare = buyCum.sub(lot.feeTaken);
      lot.feeTaken = buyCum;
      p.remaining = p.remaining.sub(alloc);
      if (p.remaining.isZero()) pieces.splice(i, 1);
      const sellCum = sellFee.mul(matched).div(sellSize).round18();
      const sellShare = sellCum.sub(sellTaken);
      sellTaken = sellCum;
      const cost = lot.price.mul(alloc).add(buyShare);
      const proceeds = sellPrice.mul(alloc).sub(sellShare);
      rows.push({
        symbol: e.symbol,
        sellOrderId: e.orderId,
        buyOrderId: lot.t.orderId,
        seq: ++seq,
        allocatedSize: alloc.text(),
        buyPrice: lot.price.text(),
        sellPrice: sellPrice.text(),
        buyTime: lot.t.time,
        sellTime: e.time,
        buyFee: buyShare.text(),
        sellFee: sellShare.text(),
        costBasis: cost.text(),
        proceeds: proceeds.text(),
        pnl: proceeds.sub(cost).text(),
        account,
      });
    }
    if (matched.cmp(sellSize) < 0) {
      const rest = sellSize.sub(matched);
      const sellShare = sellFee.sub(sellTaken);
      rows.push({
        symbol: e.symbol,
        sellOrderId: e.orderId,
        buyOrderId: null,
        seq: ++seq,
        allocatedSize: rest.text(),
        buyPrice: null,
        sellPrice: sellPrice.text(),
        buyTime: null,
        sellTime: e.time,
        buyFee: null,
        sellFee: sellShare.text(),
        costBasis: null,
        proceeds: sellPrice.mul(rest).sub(sellShare).text(),
        pnl: null,
        account,
      });
      // severity: critical when nothing was open in the account, medium for dust (≤ 0.1%), else high
      const severity = matched.isZero() ? 'critical' : rest.mul(new Q(1000n)).cmp(sellSize) <= 0 ? 'medium' : 'high';
      reviews.push({
        issueType: 'unmatched_sell',
        symbol: e.symbol,
        orderId: e.orderId,
        severity,
        details: { requested: sellSize.text(), available: matched.text(), unmatched: rest.text(), sellTime: e.time, account },
      });
    }
  }
  const open: Array<{ p: RefPiece; account: string }> = [];
  for (const [account, pieces] of books) for (const p of pieces) open.push({ p, account });
  open.sort((a, b) => a.p.buy.ord - b.p.buy.ord || cmpCodePoints(a.account, b.account));
  const lots = open.map(({ p, account }) => ({
    orderId: p.buy.t.orderId,
    time: p.buy.t.time,
    price: p.buy.price.text(),
    size: p.buy.size.text(),
    fee: p.buy.fee.text(),
    remaining: p.remaining.text(),
    account,
  }));
  return { rows, reviews, lots };
}

// ---- ledgers with accounts and transfers ------------------------------------------------------

export const ACCOUNTS = ['default', 'A', 'B', 'Zz', 'ä-wallet'];

interface EventSpec {
  kind: 'buy' | 'sell' | 'transfer';
  account: number;
  to: number;
  size: AmountSpec;
  /** 0: absolute size, else per-mille of the account's inventory (> 1000: over-transfer/oversell). */
  fraction: number;
  price: AmountSpec;
  fee: AmountSpec | null;
  dtUs: number;
}

function eventArb(regime: Regime, accounts: number): fc.Arbitrary<EventSpec> {
  return fc.record({
    kind: fc.constantFrom<EventSpec['kind']>('buy', 'buy', 'buy', 'sell', 'sell', 'transfer', 'transfer'),
    account: fc.integer({ min: 0, max: accounts - 1 }),
    to: fc.integer({ min: 1, max: accounts - 1 }),
    size: amountArb(regime),
    fraction: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 1000 }), fc.constant(1000), fc.integer({ min: 1001, max: 3000 })),
    price: amountArb(regime === 'tiny' || regime === 'dust' ? 'nano' : regime),
    fee: fc.option(amountArb(regime === 'mixed' || regime === 'edge' ? 'nano' : regime, { max: 'small' }), { nil: null }),
    dtUs: fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 1, max: 5_000_000 })),
  });
}

/** Ledger of fills and transfers in processing order (time, buys, transfers, sells, id). */
export function buildEvents(symbol: string, specs: readonly EventSpec[], accounts: number): LedgerEvent[] {
  const out: LedgerEvent[] = [];
  const inv = new Map<number, Q>();
  let us = BASE_US;
  specs.forEach((s, i) => {
    us += s.dtUs;
    const have = inv.get(s.account) ?? ZERO;
    let sizeText = amountText(s.size.coef, s.size.scale, s.size.pad, s.size.leadingZero);
    if (s.kind !== 'buy' && s.fraction > 0 && !have.isZero()) {
      // a per-mille of the account's inventory, truncated to 18 places
      const v = have.mul(new Q(BigInt(s.fraction), 1000n));
      const t = new Q((v.n * 10n ** 18n) / v.d, 10n ** 18n);
      if (!t.isZero()) sizeText = t.text();
    }
    const size = Q.of(sizeText);
    const time = timeText(us);
    const account = ACCOUNTS[s.account] as string;
    if (s.kind === 'transfer') {
      const to = (s.account + s.to) % accounts;
      const moved = min(size, have);
      inv.set(s.account, have.sub(moved));
      inv.set(to, (inv.get(to) ?? ZERO).add(moved));
      const t: TransferInput = { orderId: `t${String(i).padStart(5, '0')}`, symbol, side: 'transfer', size: sizeText, time, account, toAccount: ACCOUNTS[to] as string };
      out.push(t);
      return;
    }
    inv.set(s.account, s.kind === 'buy' ? have.add(size) : have.cmp(size) > 0 ? have.sub(size) : ZERO);
    out.push({
      orderId: `o${String(i).padStart(5, '0')}`,
      symbol,
      side: s.kind,
      size: sizeText,
      price: amountText(s.price.coef, s.price.scale, s.price.pad),
      fee: s.fee === null ? '0' : amountText(s.fee.coef, s.fee.scale, s.fee.pad),
      time,
      account,
    });
  });
  // the generator's inventory walk is in generation order; processing order may differ at equal
  // times, which only makes more over-transfers and oversells (fine: both are tested)
  const rank = (e: LedgerEvent) => (e.side === 'buy' ? 0 : e.side === 'transfer' ? 1 : 2);
  out.sort((a, b) => (a.time !== b.time ? (a.time < b.time ? -1 : 1) : rank(a) !== rank(b) ? rank(a) - rank(b) : a.orderId < b.orderId ? -1 : 1));
  return out;
}

export function eventsArb(opts: { maxLength: number; accounts?: number; regime?: Regime }): fc.Arbitrary<LedgerEvent[]> {
  const accounts = opts.accounts ?? 3;
  const regimeArb: fc.Arbitrary<Regime> = opts.regime ? fc.constant(opts.regime) : fc.constantFrom<Regime>('nano', 'nano', 'dust', 'full', 'tiny', 'mixed');
  return regimeArb.chain((regime) =>
    fc.array(eventArb(regime, accounts), { maxLength: opts.maxLength, size: 'max' }).map((specs) => buildEvents('SOL-USD', specs, accounts)),
  );
}
