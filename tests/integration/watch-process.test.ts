/**
 * `pnpm -s fifo watch`, the command the README gives supervisors, stops when the pnpm process
 * is stopped: by SIGTERM (the signal reaches the watcher) or by SIGKILL (the watcher notices
 * it was re-parented). Before, pnpm exited and its node child kept computing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSchema, type TestSchema } from '../helpers/db.ts';
import { until } from '../helpers/wait.ts';

const root = resolve(import.meta.dirname, '../..');

/** Alive and not a zombie (a re-parented child may wait a moment for init to reap it). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true; // no /proc: kill(0) is all we know
  }
}

describe('pnpm -s fifo watch under a supervisor', () => {
  let t: TestSchema;
  const started: number[] = [];
  beforeAll(async () => {
    t = await createTestSchema();
  });
  afterAll(async () => {
    for (const pid of started) if (running(pid)) process.kill(pid, 'SIGKILL');
    await t.drop();
  });

  async function startViaPnpm(): Promise<{ pnpm: ChildProcess; watcherPid: number; stderr: () => string }> {
    const pnpm = spawn('pnpm', ['-s', 'fifo', 'watch', '--debounce-ms', '50'], {
      cwd: root, env: { ...process.env, DATABASE_URL: t.url }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    pnpm.stderr!.on('data', (d) => (stderr += d));
    await until('the watcher to listen', async () => stderr.includes('listening for ledger changes'));
    const watcherPid = Number(/fifo watch: version 1, pid (\d+)/.exec(stderr)![1]);
    started.push(watcherPid);
    expect(watcherPid).not.toBe(pnpm.pid);
    expect(running(watcherPid)).toBe(true);
    return { pnpm, watcherPid, stderr: () => stderr };
  }

  async function assertStopped(watcherPid: number): Promise<void> {
    await until('the node watcher to exit', async () => !running(watcherPid), 10_000);
    expect(await t.query(`SELECT computation_id FROM fifo_computation_log WHERE status = 'running'`)).toEqual([]);
  }

  it('SIGTERM to pnpm stops the node watcher, between runs', async () => {
    const w = await startViaPnpm();
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, order_time)
                   SELECT 'b' || i, 'SOL-USD', 'buy', 1, 10, '2025-01-01Z'::timestamptz + i * interval '1 s' FROM generate_series(1, 2000) i`);
    w.pnpm.kill('SIGTERM');
    await assertStopped(w.watcherPid);
    expect(w.stderr()).toMatch(/stopped/);
  });

  it('SIGKILL to pnpm (nothing forwarded) stops it too: the watcher sees it was re-parented', async () => {
    const w = await startViaPnpm();
    w.pnpm.kill('SIGKILL');
    await assertStopped(w.watcherPid);
  });
});
