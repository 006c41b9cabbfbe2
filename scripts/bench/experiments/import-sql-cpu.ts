/**
 * Issue 11 import experiments: server CPU of SQL statements (from /proc of the backend, so the
 * machine's load matters less than for wall times), each in a transaction rolled back, the
 * statements interleaved round by round; min and median per statement.
 *   DATABASE_URL=... tsx scripts/bench/experiments/import-sql-cpu.ts ROUNDS FILE.sql
 * FILE.sql: statements separated by lines `-- name: <label>` (each block may hold several
 * statements; a block's lines before `-- timed` are setup, not timed).
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';

const [rounds = '3', file = ''] = process.argv.slice(2);
const blocks = readFileSync(file, 'utf8').split(/^-- name: /m).slice(1).map((b) => {
  const [name, ...rest] = b.split('\n');
  const body = rest.join('\n');
  const [setup, timed] = body.includes('-- timed') ? body.split('-- timed') : ['', body];
  return { name: name!.trim(), setup: setup!, timed: timed! };
});
const c = new pg.Client({ connectionString: process.env.DATABASE_URL });
await c.connect();
const pid = (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
const cpu = () => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
};
const res = new Map<string, { cpu: number[]; wall: number[] }>(blocks.map((b) => [b.name, { cpu: [], wall: [] }]));
for (let r = 0; r < Number(rounds); r++) {
  for (const b of blocks) {
    await c.query('BEGIN');
    await c.query('SET LOCAL max_parallel_workers_per_gather = 0');
    if (b.setup.trim()) await c.query(b.setup);
    const c0 = cpu();
    const t0 = performance.now();
    await c.query(b.timed);
    res.get(b.name)!.wall.push((performance.now() - t0) / 1000);
    res.get(b.name)!.cpu.push(cpu() - c0);
    await c.query('ROLLBACK');
  }
}
const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
for (const [name, { cpu: cs, wall }] of res) {
  console.log(`${name.padEnd(40)} cpu min ${Math.min(...cs).toFixed(2)} med ${med(cs).toFixed(2)} s; wall med ${med(wall).toFixed(2)} s  [${cs.map((x) => x.toFixed(2)).join(' ')}]`);
}
await c.end();
