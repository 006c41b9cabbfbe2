/**
 * Per-call overhead of the Node PLV8 host:
 *   DATABASE_URL=$(pnpm -s fifo db start) tsx packages/plv8/bench/host.bench.ts
 * (the host package knows no cluster of its own; the CLI starts one). Compares plv8.execute in the host with a plain
 * async node-postgres round trip on the same server.
 */
import pg from 'pg';
import { Plv8Host } from '../src/index.ts';

const N = Number(process.env.N ?? 3000);
const url = process.env.DATABASE_URL;
if (!url) throw new Error('set DATABASE_URL (e.g. DATABASE_URL=$(pnpm -s fifo db start))');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

const host = await Plv8Host.open({ connectionString: url, procedures: [] });
function perCall(label: string, body: string, calls = N): void {
  host.run(body.replace('$N', '200')); // warm up
  const runs: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t = performance.now();
    host.run(body.replace('$N', String(N)));
    runs.push(((performance.now() - t) * 1000) / calls);
  }
  console.log(`${label.padEnd(46)} ${median(runs).toFixed(1).padStart(7)} µs/call`);
}
perCall('host plv8.execute, no parameters', `for (let i = 0; i < $N; i++) plv8.execute('SELECT 1');`);
perCall('host plv8.execute, 2 parameters', `for (let i = 0; i < $N; i++) plv8.execute('SELECT $1::int + $2::int AS x', [i, 1]);`);
perCall('host prepared plan execute', `const p = plv8.prepare('SELECT $1::int + $2::int AS x', ['int', 'int']); for (let i = 0; i < $N; i++) p.execute([i, 1]); p.free();`);
perCall('host plv8.execute, 100-row result (3 cols)', `for (let i = 0; i < $N / 10; i++) plv8.execute('SELECT g, g::text AS t, now() AS at FROM generate_series(1, 100) g');`, N / 10);
host.rollback();
await host.close();

const c = new pg.Client({ connectionString: url });
await c.connect();
await c.query('BEGIN');
for (let i = 0; i < 200; i++) await c.query('SELECT 1');
const runs: number[] = [];
for (let r = 0; r < 5; r++) {
  const t = performance.now();
  for (let i = 0; i < N; i++) await c.query('SELECT 1');
  runs.push(((performance.now() - t) * 1000) / N);
}
console.log(`${'baseline: async node-postgres round trip'.padEnd(46)} ${median(runs).toFixed(1).padStart(7)} µs/call`);
await c.end();
