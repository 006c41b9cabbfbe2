/** Starts compute-child.ts in a process of its own and returns its report. */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import type { ChildReport, ChildRequest } from './compute-child.ts';

const CHILD = resolve(import.meta.dirname, 'compute-child.ts');

export function computeInChild(req: ChildRequest): Promise<ChildReport> {
  return new Promise((resolvePromise, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify(req)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, DATABASE_URL: req.url },
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{')) {
        reject(new Error(`compute child exited with ${code}: ${err.trim() || out.trim()}`));
        return;
      }
      resolvePromise(JSON.parse(line) as ChildReport);
    });
  });
}
