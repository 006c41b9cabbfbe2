/**
 * The two pieces of code the host evaluates: the worker thread that owns the connection and
 * the runtime installed in each vm context. The compiled CLI carries them prebuilt (defined
 * at its build); from source they are bundled with esbuild on first use, once per process.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type * as esbuildTypes from 'esbuild';

declare const __FIFO_HOST_WORKER__: string | undefined;
declare const __FIFO_HOST_RUNTIME__: string | undefined;

/** esbuild options of the worker: `pg` is required at run time from WorkerInit.requireFrom. */
export function workerBuild(): esbuildTypes.BuildOptions {
  return {
    entryPoints: [fileURLToPath(new URL('./worker.ts', import.meta.url))],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    write: false,
    external: ['pg'],
    logLevel: 'silent',
  };
}

/** esbuild options of the in-context runtime (api.ts + convert.ts). */
export function runtimeBuild(): esbuildTypes.BuildOptions {
  return {
    entryPoints: [fileURLToPath(new URL('./runtime.ts', import.meta.url))],
    bundle: true,
    platform: 'neutral',
    format: 'iife',
    globalName: '__plv8_runtime',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  };
}

function bundled(options: esbuildTypes.BuildOptions): string {
  // Loaded lazily: the compiled CLI never needs esbuild at run time.
  const esbuild = createRequire(import.meta.url)('esbuild') as typeof esbuildTypes;
  return esbuild.buildSync({ ...options, write: false }).outputFiles[0]?.text ?? '';
}

let worker: string | undefined;
let runtime: string | undefined;

export function workerCode(): string {
  worker ??= typeof __FIFO_HOST_WORKER__ === 'string' ? __FIFO_HOST_WORKER__ : bundled(workerBuild());
  return worker;
}

export function runtimeCode(): string {
  runtime ??= typeof __FIFO_HOST_RUNTIME__ === 'string' ? __FIFO_HOST_RUNTIME__ : bundled(runtimeBuild());
  return runtime;
}
