/**
 * Ledgers too big to hold as objects (2,000,000 trades in one symbol), generated as a stream
 * and written straight to CSV: the model of ledger-generator.ts (a price random walk, sells
 * never above the inventory, fees of 0.6 %), every amount from integers, never a float.
 * Also writes the same trades as a Coinbase fills export (for `fifo import coinbase`).
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { prng, symbolName, unitsToText, type GeneratedTrade } from '../../../packages/cli/src/sample/ledger-generator.ts';

export function* streamTrades(trades: number, symbols: number, seed: number): Generator<GeneratedTrade> {
  const rand = prng(seed);
  const start = Date.parse('2026-01-01T00:00:00Z');
  const per = Math.floor(trades / symbols);
  const extra = trades - per * symbols;
  for (let s = 0; s < symbols; s++) {
    const symbol = symbolName(s);
    const n = per + (s < extra ? 1 : 0);
    let price = BigInt(Math.floor(10_000 + rand() * 50_000_000));
    let inventory = 0n;
    let t = start + Math.floor(rand() * 60_000);
    for (let k = 0; k < n; k++) {
      t += 1 + Math.floor(rand() * 120_000);
      price += (price * BigInt(Math.floor((rand() - 0.5) * 400))) / 10_000n;
      if (price < 100n) price = 100n;
      const sell = inventory > 0n && rand() < 0.45;
      const size = sell ? BigInt(1 + Math.floor(rand() * Number(inventory))) : BigInt(1 + Math.floor(rand() * 500_000_000));
      inventory += sell ? -size : size;
      yield {
        order_id: `${symbol}-${String(k).padStart(8, '0')}`, symbol, side: sell ? 'sell' : 'buy',
        size: unitsToText(size, 8), price: unitsToText(price, 4),
        total_fees_usd: unitsToText((price * size * 6n) / 1000n / 10_000n, 8),
        order_time: new Date(t).toISOString(), source: 'bench', trigger: null,
      };
    }
  }
}

async function writeLines(path: string, header: string | null, lines: Iterable<string>): Promise<number> {
  const out = createWriteStream(path);
  let buf = header === null ? '' : `${header}\n`;
  let n = 0;
  for (const line of lines) {
    buf += `${line}\n`;
    n++;
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  out.end(buf);
  await once(out, 'finish');
  return n;
}

/** trade_records CSV for COPY (order_id, symbol, side, size, price, total_fees_usd, order_time, source, trigger). */
export function writeTradeCsv(path: string, trades: Iterable<GeneratedTrade>): Promise<number> {
  return writeLines(path, null, (function* () {
    for (const t of trades) yield `${t.order_id},${t.symbol},${t.side},${t.size},${t.price},${t.total_fees_usd},${t.order_time},${t.source},`;
  })());
}

export const COINBASE_HEADER =
  'entry_id,trade_id,order_id,trade_time,trade_type,price,size,commission,product_id,sequence_timestamp,liquidity_indicator,size_in_quote,user_id,side';

/** One Coinbase fill per trade (its own trade id; the order id is the trade's). */
export function writeCoinbaseCsv(path: string, trades: Iterable<GeneratedTrade>): Promise<number> {
  return writeLines(path, COINBASE_HEADER, (function* () {
    let i = 0;
    for (const t of trades) {
      i++;
      yield `e-${i},tr-${i},${t.order_id},${t.order_time},FILL,${t.price},${t.size},${t.total_fees_usd},${t.symbol},` +
        `${t.order_time},TAKER,false,u-1,${t.side.toUpperCase()}`;
    }
  })());
}
