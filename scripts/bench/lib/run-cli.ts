/**
 * Runs the `fifo` CLI in a child as a user runs it: the compiled bin (`node
 * packages/cli/dist/fifo.mjs`) when built, else the sources through tsx. Reports the wall
 * time from spawn to exit and the child's peak RSS (rss-preload.mjs).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');
export const BIN = resolve(ROOT, 'packages', 'cli', 'dist', 'fifo.mjs');
const MAIN = resolve(ROOT, 'packages', 'cli', 'src', 'main.ts');
const PRELOAD = resolve(import.meta.dirname, 'rss-preload.mjs');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  wallMs: number;
  maxRssMB: number;
}

/** Set when the build failed: a bin left from an older build is not the code under test. */
let fromSource = false;

/** `pnpm -s build:cli`; returns an error text, or null when the bin was built. */
export function buildCli(): string | null {
  const r = spawnSync('pnpm', ['-s', 'build:cli'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status === 0 && existsSync(BIN)) return null;
  fromSource = true;
  return (r.stderr || r.stdout || r.error?.message || `exit ${r.status}`).trim().split('\n').slice(0, 3).join(' / ');
}

export function compiled(): boolean {
  return !fromSource && existsSync(BIN);
}

/** Node arguments that start the CLI (compiled when possible). */
export function cliArgs(args: readonly string[], opts: { measureRss?: boolean; source?: boolean } = {}): string[] {
  const pre = opts.measureRss === false ? [] : ['--import', PRELOAD];
  return opts.source || !compiled() ? [...pre, '--import', 'tsx', MAIN, ...args] : [...pre, BIN, ...args];
}

/** A child still running after this long is killed and reported as failed (exit -1). */
const TIMEOUT_MS = Number(process.env.FIFO_BENCH_CHILD_TIMEOUT_MS ?? 15 * 60_000);

export function runCli(args: readonly string[], env: Record<string, string>, opts: { source?: boolean } = {}): Promise<CliRun> {
  return runNode(cliArgs(args, opts), env);
}

export function runNode(nodeArgs: readonly string[], env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolvePromise, reject) => {
    const t0 = performance.now();
    const p = spawn(process.execPath, nodeArgs, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env, FORCE_COLOR: '0' } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      stderr += `\nkilled by the bench after ${TIMEOUT_MS / 1000} s\n`;
      p.kill('SIGKILL');
    }, TIMEOUT_MS);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      const wallMs = performance.now() - t0;
      const m = /FIFO_BENCH_MAXRSS_KB (\d+)/.exec(stderr);
      stderr = stderr.replace(/\n?FIFO_BENCH_MAXRSS_KB \d+\n/, '');
      resolvePromise({ code: code ?? -1, stdout, stderr, wallMs, maxRssMB: m ? Number(m[1]) / 1024 : NaN });
    });
  });
}
