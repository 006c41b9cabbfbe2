/**
 * Issue 11, experiment 6: what crossing the Node host's worker boundary costs (the host's
 * worker owns the pg connection and posts results to the main thread): 1M trades as 20
 * messages of 50,000 rows (arrays of 7 strings, structured clone), vs. 20 JSON texts
 * (one string each; JSON.parse on the main side), vs. 20 tab-line texts (split on the main side).
 * No database. tsx scripts/bench/experiments/exp6-host-transfer.ts
 */
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { median } from './lib.ts';

const N = 1_000_000, CH = 50_000;
const row = (i: number) => [`o-${i}-2b7e1516-28ae`, `SYM${i % 1000}-USD`, i % 2 ? 'buy' : 'sell', '0.' + (12345678 + i), '43121.5' + (i % 100), '0.00' + (i % 977), '2026-01-01T00:00:00.123456Z'];
const chunks = Array.from({ length: N / CH }, (_, c) => Array.from({ length: CH }, (_, j) => row(c * CH + j)));
const json = chunks.map((ch) => JSON.stringify(ch.map((f) => ({ orderId: f[0], symbol: f[1], side: f[2], size: f[3], price: f[4], fee: f[5], time: f[6] }))));
const lines = chunks.map((ch) => ch.map((f) => f.join('\t')).join('\n'));
const { port1, port2 } = new MessageChannel();
const through = (payloads: unknown[], use: (m: unknown) => number) => {
  const t0 = performance.now(); let n = 0;
  for (const p of payloads) { port1.postMessage(p); n += use(receiveMessageOnPort(port2)!.message); }
  return [performance.now() - t0, n] as const;
};
const modes: Record<string, () => readonly [number, number]> = {
  'rows (arrays of 7 strings), structured clone': () => through(chunks, (m) => (m as string[][]).map((f) => ({ orderId: f[0], symbol: f[1], side: f[2], size: f[3], price: f[4], fee: f[5], time: f[6] })).length),
  'one JSON text per chunk + JSON.parse': () => through(json, (m) => (JSON.parse(m as string) as unknown[]).length),
  'one tab-line text per chunk + split': () => through(lines, (m) => (m as string).split('\n').map((l) => { const f = l.split('\t'); return { orderId: f[0], symbol: f[1], side: f[2], size: f[3], price: f[4], fee: f[5], time: f[6] }; }).length),
};
const res = new Map<string, number[]>();
for (let r = 0; r < 3; r++) for (const [k, f] of Object.entries(modes)) { const [ms, n] = f(); if (n !== N) throw new Error(k); (res.get(k) ?? res.set(k, []).get(k)!).push(ms); }
console.log('# 1M trades across a MessagePort into TradeInput-like objects, median of 3 (ms)');
for (const [k, xs] of res) console.log(`${k.padEnd(48)} ${median(xs).toFixed(0).padStart(6)} ms  (${xs.map((x) => x.toFixed(0)).join(', ')})`);
port1.close();
