/**
 * Issue 11, experiment 2c: client-side cost of building one batch's payload (no database):
 * JSON.stringify vs. COPY text lines (escaping every field, or only the id fields: numerics
 * and ISO times from the engine never need escaping) vs. array literals per column.
 * Rows shaped like the engine's, 1M synthetic rows in batches of 25,000, 3 rounds.
 *   tsx scripts/bench/experiments/exp2c-build.ts
 */
import { copyField } from './copy-in.ts';
import { median } from './lib.ts';

const N = 1_000_000, B = 25_000;
const rows = Array.from({ length: N }, (_, i) => ({
  symbol: `SYM${i % 1000}-USD`, sellOrderId: `s-${i}-7c9e6679-7425-40de`, seq: 1 + (i % 3), buyOrderId: i % 97 ? `b-${i}-1f0e2d3c-4b5a` : null,
  allocatedSize: '0.' + String(123456789 + i), buyPrice: i % 97 ? '43121.' + String(i % 100000) : null, sellPrice: '43999.12',
  buyTime: i % 97 ? '2026-01-01T00:00:00.123456Z' : null, sellTime: '2026-02-01T00:00:00.654321Z',
  buyFee: i % 97 ? '0.000123456789012345' : null, sellFee: '0.000987654321098765', costBasis: i % 97 ? '5321.123456789012345678' : null,
  proceeds: '5400.987654321098765432', pnl: i % 97 ? '79.864197532086419754' : null,
}));
type Row = (typeof rows)[number];
const FIELDS = Object.keys(rows[0]!) as (keyof Row)[];
const ID = /[\\\t\n\r]/;
const esc = (s: string) => (ID.test(s) ? s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r') : s);
const n = (v: string | null) => (v === null ? '\\N' : v);
const builders: Record<string, (b: Row[]) => number> = {
  'JSON.stringify': (b) => JSON.stringify(b).length,
  'COPY lines, every field escaped (exp2)': (b) => {
    let s = '';
    for (const r of b) { s += '1'; for (const f of FIELDS) s += '\t' + copyField(r[f]); s += '\t1\n'; }
    return s.length;
  },
  'COPY lines, template, only ids escaped': (b) => {
    let s = '';
    for (const r of b) {
      s += `1\t${esc(r.symbol)}\t${esc(r.sellOrderId)}\t${r.seq}\t${r.buyOrderId === null ? '\\N' : esc(r.buyOrderId)}\t${r.allocatedSize}\t${n(r.buyPrice)}\t${r.sellPrice}\t${n(r.buyTime)}\t${r.sellTime}\t${n(r.buyFee)}\t${r.sellFee}\t${n(r.costBasis)}\t${r.proceeds}\t${n(r.pnl)}\t1\n`;
    }
    return s.length;
  },
  'COPY lines, array of parts + join': (b) => {
    const parts: string[] = new Array(b.length);
    for (let i = 0; i < b.length; i++) {
      const r = b[i]!;
      parts[i] = `1\t${esc(r.symbol)}\t${esc(r.sellOrderId)}\t${r.seq}\t${r.buyOrderId === null ? '\\N' : esc(r.buyOrderId)}\t${r.allocatedSize}\t${n(r.buyPrice)}\t${r.sellPrice}\t${n(r.buyTime)}\t${r.sellTime}\t${n(r.buyFee)}\t${r.sellFee}\t${n(r.costBasis)}\t${r.proceeds}\t${n(r.pnl)}\t1`;
    }
    return parts.join('\n').length;
  },
  'COPY lines, template, no escaping at all': (b) => {
    let s = '';
    for (const r of b) {
      s += `1\t${r.symbol}\t${r.sellOrderId}\t${r.seq}\t${n(r.buyOrderId)}\t${r.allocatedSize}\t${n(r.buyPrice)}\t${r.sellPrice}\t${n(r.buyTime)}\t${r.sellTime}\t${n(r.buyFee)}\t${r.sellFee}\t${n(r.costBasis)}\t${r.proceeds}\t${n(r.pnl)}\t1\n`;
    }
    return s.length;
  },
  'COPY lines into one Buffer (buf.write per field)': (b) => {
    const buf = Buffer.allocUnsafe(b.length * 400);
    let o = 0;
    const w = (v: string | null) => { o += v === null ? buf.write('\\N\t', o, 'latin1') : buf.write(v, o, 'utf8') + buf.write('\t', o + Buffer.byteLength(v), 'latin1'); };
    for (const r of b) { o += buf.write('1\t', o, 'latin1'); w(esc(r.symbol)); w(esc(r.sellOrderId)); w(String(r.seq)); w(r.buyOrderId === null ? null : esc(r.buyOrderId));
      w(r.allocatedSize); w(r.buyPrice); w(r.sellPrice); w(r.buyTime); w(r.sellTime); w(r.buyFee); w(r.sellFee); w(r.costBasis); w(r.proceeds); w(r.pnl);
      o += buf.write('1\n', o, 'latin1'); }
    return o;
  },
  'COPY text, flattened by Buffer.from (what sending costs)': (b) => {
    let s = '';
    for (const r of b) {
      s += `1\t${esc(r.symbol)}\t${esc(r.sellOrderId)}\t${r.seq}\t${r.buyOrderId === null ? '\\N' : esc(r.buyOrderId)}\t${r.allocatedSize}\t${n(r.buyPrice)}\t${r.sellPrice}\t${n(r.buyTime)}\t${r.sellTime}\t${n(r.buyFee)}\t${r.sellFee}\t${n(r.costBasis)}\t${r.proceeds}\t${n(r.pnl)}\t1\n`;
    }
    return Buffer.from(s, 'utf8').length;
  },
  'JSON.stringify, flattened by Buffer.from': (b) => Buffer.from(JSON.stringify(b), 'utf8').length,
  'array literals per column (join)': (b) => {
    let len = 0;
    for (const f of FIELDS) len += ('{' + b.map((r) => (r[f] === null ? 'NULL' : String(r[f]))).join(',') + '}').length;
    return len;
  },
};
const res = new Map<string, number[]>();
for (let round = 0; round < 3; round++) {
  for (const [name, build] of Object.entries(builders)) {
    const t0 = performance.now();
    let len = 0;
    for (let i = 0; i < N; i += B) len += build(rows.slice(i, i + B));
    const ms = performance.now() - t0;
    (res.get(name) ?? res.set(name, []).get(name)!).push(ms);
    if (round === 0) console.log(`${name}: ${(len / 1e6).toFixed(0)} MB of text for 1M rows`);
  }
}
console.log(`# client build, 1M rows, median of 3 (ms)`);
for (const [name, xs] of res) console.log(`${name.padEnd(42)} ${median(xs).toFixed(0).padStart(6)} ms  (${xs.map((x) => x.toFixed(0)).join(', ')})`);
