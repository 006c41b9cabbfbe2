/**
 * Issue 11 experiment: does the engine run slower inside the Node host's vm context than at
 * Node's top level? The engine bundled as the procedures are (esbuild, IIFE), the same trades
 * (a copy of the bench ledger's first `symbols` symbols, parsed from JSON inside each realm),
 * allocated in: this realm; a bare vm context; a vm context with the globals bound as the host
 * binds them (global-bindings.ts); each vm case also without the V8 10.2 baseline's restrictions (vm-free). CPU time of the process, rounds interleaved.
 *
 *   DATABASE_URL=… pnpm exec tsx scripts/bench/experiments/exp12-engine-in-vm.ts [symbols] [rounds]
 */
import vm from 'node:vm';
import * as esbuild from 'esbuild';
import { boundGlobals, functionSource } from '../../../packages/plv8/src/host/global-bindings.ts';
import { MISSING_BUILTINS, restrictToV8Baseline } from '../../../packages/plv8/src/v8-baseline.ts';
import { connect, median } from './lib.ts';

const SYMBOLS = Number(process.argv[2] ?? 200);
const ROUNDS = Number(process.argv[3] ?? 5);
const UTC_TEXT = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`;
const c = await connect();
const { rows } = await c.query(
  `SELECT order_id AS "orderId", symbol, side, size::text AS size, price::text AS price, total_fees_usd::text AS fee,
          to_char(order_time AT TIME ZONE 'UTC', ${UTC_TEXT}) AS time
     FROM trade_records WHERE symbol IN (SELECT DISTINCT symbol FROM trade_records ORDER BY 1 LIMIT $1)
    ORDER BY symbol, order_time, side = 'sell', order_id COLLATE "C"`, [SYMBOLS]);
await c.end();
const json = JSON.stringify(rows);
const bundle = (await esbuild.build({
  entryPoints: [new URL('../../../packages/engine/src/index.ts', import.meta.url).pathname],
  bundle: true, format: 'iife', globalName: 'ENGINE', target: 'es2022', platform: 'neutral', write: false,
})).outputFiles[0]!.text;
const body = `${bundle}
  const trades = JSON.parse(input);
  const bySymbol = new Map();
  for (const t of trades) { let a = bySymbol.get(t.symbol); if (!a) bySymbol.set(t.symbol, a = []); a.push(t); }
  return function run() {
    let n = 0;
    for (const [symbol, ts] of bySymbol) n += ENGINE.allocate(ENGINE.emptyState(symbol, 'fifo'), ts).rows.length;
    return n;
  };`;

const FAST = `(function () {
  const owners = [Array.prototype, Object.getPrototypeOf(Int8Array.prototype), String.prototype, ArrayBuffer.prototype, SharedArrayBuffer.prototype,
    RegExp.prototype, JSON, Object, Map, Array, Promise, Set.prototype, globalThis, Math, DataView.prototype, Uint8Array, Uint8Array.prototype, Error, Atomics,
    Array.prototype[Symbol.unscopables]];
  for (const o of owners) { function F() {} F.prototype = o; new F(); Object.setPrototypeOf({}, o); }
})()`;
function realm(kind: 'top' | 'vm' | 'vm-bound' | 'vm-free' | 'vm-free-bound' | 'vm-bound-fast' | 'vm-bound-keep-regexp' | 'vm-free-bound-del-unicodesets'): () => number {
  if (kind === 'top') return new Function('input', body)(json) as () => number;
  const ctx = vm.createContext({}, { name: 'plv8' });
  if (kind === 'vm-bound-keep-regexp') {
    const only = process.env.EXP12_ONLY?.split(',');
    const list = MISSING_BUILTINS.filter((b) => (only ? only.includes(b.owner) : b.owner !== 'RegExp.prototype')).map((b) => [b.owner, b.name]);
    (vm.runInContext(`(function (list) { for (const [o, n] of list) { const parts = o.split('.'); let x = parts[0] === 'TypedArray' ? Object.getPrototypeOf(Int8Array) : globalThis[parts[0]]; for (let i = 1; i < parts.length && x != null; i++) x = x[parts[i]]; if (x != null && Object.prototype.hasOwnProperty.call(x, n)) delete x[n]; } })`, ctx) as (l: string[][]) => void)(list);
  } else if (kind === 'vm-free-bound-del-unicodesets') vm.runInContext('delete RegExp.prototype.unicodeSets', ctx);
  else if (!kind.startsWith('vm-free')) restrictToV8Baseline(ctx);
  if (kind === 'vm-bound-fast') vm.runInContext(FAST, ctx);
  const g = kind.includes('bound') ? boundGlobals(ctx) : '';
  const fn = vm.runInContext(functionSource(g, 'input', body), ctx) as (input: string) => () => number;
  return fn(json);
}
const runs = process.env.EXP12_ONLY ? { top: realm('top'), 'vm-free-bound': realm('vm-free-bound'), [`only ${process.env.EXP12_ONLY}`]: realm('vm-bound-keep-regexp') } : { top: realm('top'), 'vm-bound': realm('vm-bound'), 'vm-free': realm('vm-free'), 'vm-free-bound': realm('vm-free-bound'), 'vm-bound-fast': realm('vm-bound-fast'), 'vm-bound-keep-regexp': realm('vm-bound-keep-regexp'), 'vm-free-bound-del-unicodesets': realm('vm-free-bound-del-unicodesets') };
const cpu: Record<string, number[]> = {};
let count = 0;
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, run] of Object.entries(runs)) {
    const t0 = process.cpuUsage();
    count = run();
    const d = process.cpuUsage(t0);
    (cpu[name] ??= []).push((d.user + d.system) / 1000);
  }
}
for (const [name, xs] of Object.entries(cpu)) {
  console.log(`${name.padEnd(9)} ${xs.map((x) => x.toFixed(0)).join(', ')} ms CPU (median ${median(xs).toFixed(0)}) for ${rows.length} trades, ${count} rows`);
}
