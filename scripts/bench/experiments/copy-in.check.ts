import { connect } from './lib.ts';
import { copyFrom } from './copy-in.ts';
const c = await connect();
c.on('error', (e) => console.log('client error', e));
await c.query('CREATE TEMP TABLE t (a int, b text)');
try { await copyFrom(c, "t", "x\ty\n"); } catch (e) { console.log("bad row rejected:", (e as Error).message); }
console.log("after error:", (await c.query("select 1 as ok")).rows);
for (const n of [1000, 100000]) {
  let s = ''; for (let i = 0; i < n; i++) s += `${i}\txxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n`;
  const timer = setTimeout(() => { console.log('timeout at', n, s.length); process.exit(1); }, 5000);
  console.log(n, s.length, await copyFrom(c, 't', s));
  clearTimeout(timer);
}
await c.end(); process.exit(0);
