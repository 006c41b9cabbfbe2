/** Runs the real `fifo` CLI as a child process, the way users do. */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { testHost } from './host.ts';
import { until } from './wait.ts';

const root = resolve(import.meta.dirname, '../..');
const main = resolve(root, 'packages/cli/src/main.ts');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runFifo(args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', main, ...args], {
      cwd: root,
      env: { ...process.env, FIFO_HOST: testHost(), ...env, FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code: code ?? -1, stdout, stderr }));
  });
}

export interface Watcher {
  child: ChildProcess;
  /** Everything the watcher wrote to stderr so far (its log). */
  stderr(): string;
}

/** `fifo watch --debounce-ms N` on `url`, started the way users run it and listening. */
export async function startWatch(url: string, debounceMs: number, extra: readonly string[] = []): Promise<Watcher> {
  const child = spawn(process.execPath, ['--import', 'tsx', main, 'watch', '--debounce-ms', String(debounceMs), ...extra], {
    cwd: root,
    env: { ...process.env, FIFO_HOST: testHost(), DATABASE_URL: url, FORCE_COLOR: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stdout.resume();
  child.stderr.on('data', (d) => (stderr += d));
  const watcher = { child, stderr: () => stderr };
  await until('the watcher to listen', async () => stderr.includes('listening for ledger changes'));
  return watcher;
}
