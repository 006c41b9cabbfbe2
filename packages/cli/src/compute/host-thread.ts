/**
 * Node-host sessions that run in parallel: each in a worker thread of its own
 * (host-thread-worker.ts), so `--concurrency K` with the Node host uses K cores. The runner
 * posts one call and awaits its answer; the ProcedureSession interface is unchanged.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type * as esbuildTypes from 'esbuild';
import { Plv8Error } from '@fifo-ledger/plv8/host';
import { runtimeCode, workerCode } from '@fifo-ledger/plv8/host/sources';
import { loadGeneratedProcedures, repoRoot } from '@fifo-ledger/plv8/procedures';
import type { ProcedureSession } from './procedure-host.ts';
import type { ThreadInit, ThreadRequest, ThreadResponse } from './host-thread-worker.ts';

/** When one call of a session ran (epoch ms, inside the worker). */
export interface CallInterval {
  name: string;
  startedAt: number;
  finishedAt: number;
}

/** A session that keeps the intervals of its calls (the tests check that two overlap). */
export interface TimedProcedureSession extends ProcedureSession {
  readonly calls: readonly CallInterval[];
}

const WORKER_SOURCE = join(repoRoot, 'packages', 'cli', 'src', 'compute', 'host-thread-worker.ts');
/** What the thread's `import.meta.url` is: a module of this checkout, from which `pg` resolves. */
const THREAD_MODULE_URL = typeof __FIFO_HOST_THREAD__ === 'string'
  ? import.meta.url
  : pathToFileURL(join(repoRoot, 'packages', 'plv8', 'src', 'procedures.ts')).href;

let code: string | null | undefined;

// Set by the compiled CLI's build: the thread's code, prebuilt (see packages/cli/build.ts).
declare const __FIFO_HOST_THREAD__: string | undefined;

/**
 * PLV8's default isolate heap limit. The thread's old generation gets the same, so the Node
 * host runs out of memory where PLV8 would (it is never laxer), and V8 collects instead of
 * growing: a 1M-trade symbol peaks at about 330 MB RSS instead of 550.
 */
export const PLV8_HEAP_MB = 256;

/**
 * The thread's young generation. V8 sizes it from the heap by default, and what it holds is
 * garbage by the next scavenge (fetched rows, written columns): 16 MB keeps a 2M-trade symbol's
 * run at ~370 MB RSS instead of ~425 at the same speed (docs/BENCHMARKS.md). It limits nothing
 * that lives, so the thread is no stricter than PLV8's isolate.
 */
const YOUNG_GENERATION_MB = 16;

/**
 * esbuild options of the thread's code. `import.meta.url` (where the host finds `pg` and the
 * checkout) comes from the thread's workerData: the launching module's own URL.
 */
export function hostThreadBuild(): esbuildTypes.BuildOptions {
  return {
    entryPoints: [WORKER_SOURCE],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    write: false,
    external: ['pg', 'pg-native', 'esbuild'],
    logLevel: 'silent',
    banner: { js: "var __fifo_module_url = require('node:worker_threads').workerData.moduleUrl;" },
    define: { 'import.meta.url': '__fifo_module_url' },
  };
}

/**
 * The thread's code: prebuilt in the compiled CLI, else bundled once per process from the
 * checkout, with the host's own database worker and runtime passed in prebuilt so the thread
 * never needs esbuild. null: no source to bundle.
 */
export function hostThreadCode(): string | null {
  if (code !== undefined) return code;
  if (typeof __FIFO_HOST_THREAD__ === 'string') return (code = __FIFO_HOST_THREAD__);
  if (!existsSync(WORKER_SOURCE)) return (code = null);
  const esbuild = createRequire(import.meta.url)('esbuild') as typeof esbuildTypes;
  const options = hostThreadBuild();
  code = esbuild.buildSync({
    ...options,
    define: {
      ...options.define,
      __FIFO_HOST_WORKER__: JSON.stringify(workerCode()),
      __FIFO_HOST_RUNTIME__: JSON.stringify(runtimeCode()),
    },
  }).outputFiles?.[0]?.text ?? null;
  return code;
}

export async function openThreadSession(url: string, applicationName: string, sessionSql: readonly string[]): Promise<TimedProcedureSession> {
  const source = hostThreadCode();
  if (source === null) throw new Error(`cannot start a Node-host thread: ${WORKER_SOURCE} is missing`);
  const init: ThreadInit = {
    url, applicationName, sessionSql: [...sessionSql], procedures: loadGeneratedProcedures(), moduleUrl: THREAD_MODULE_URL,
  };
  const worker = new Worker(source, { eval: true, workerData: init, resourceLimits: { maxOldGenerationSizeMb: PLV8_HEAP_MB, maxYoungGenerationSizeMb: YOUNG_GENERATION_MB } });
  const calls: CallInterval[] = [];
  const pending = new Map<number, { resolve: (r: ThreadResponse) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  let dead: Error | null = null;
  const failAll = (e: Error) => {
    dead ??= e;
    for (const p of pending.values()) p.reject(dead);
    pending.clear();
  };
  worker.on('message', (res: ThreadResponse) => {
    const p = pending.get(res.id);
    pending.delete(res.id);
    p?.resolve(res);
  });
  worker.on('error', (e) => failAll(new Plv8Error(`the Node-host thread failed: ${e.message}`, '08006', { cause: e })));
  worker.on('exit', (c) => failAll(new Plv8Error(`the Node-host thread exited (code ${c})`, '08006')));
  const send = (req: ThreadRequest): Promise<ThreadResponse> => {
    if (dead) return Promise.reject(dead);
    return new Promise((resolve, reject) => {
      pending.set(req.id, { resolve, reject });
      worker.postMessage(req);
    });
  };
  let closed = false;
  return {
    kind: 'client',
    calls,
    async callInTransaction(name, args) {
      const res = await send({ op: 'call', id: nextId++, name, args });
      if (!res.ok) {
        const { message, sqlerrcode, ...extra } = res.error;
        throw new Plv8Error(message, sqlerrcode ?? 'XX000', extra);
      }
      calls.push({ name, startedAt: res.startedAt, finishedAt: res.finishedAt });
      return res.result;
    },
    async close() {
      if (closed) return;
      closed = true;
      if (!dead) await send({ op: 'close', id: nextId++ }).catch(() => {});
      dead ??= new Plv8Error('the Node-host thread is closed', '08003');
      await worker.terminate();
    },
  };
}
