/**
 * A Node-host session in a worker thread of its own (`--concurrency K` with the Node host).
 * The host's procedure calls are synchronous: in the main thread K sessions would take
 * turns. Here each session's Plv8Host (and its own database thread) lives in this worker;
 * the runner posts a call and awaits the answer, so K calls run on K cores.
 *
 * Bundled with esbuild and run as an `eval` worker (see host-thread.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Plv8Host, Plv8Error } from '@fifo-ledger/plv8/host';
import type { GeneratedProcedure } from '@fifo-ledger/plv8/procedures';

export interface ThreadInit {
  url: string;
  applicationName: string;
  sessionSql: readonly string[];
  procedures: readonly GeneratedProcedure[];
  /** The thread's import.meta.url (see hostThreadBuild). */
  moduleUrl: string;
}

export type ThreadRequest = { op: 'call'; id: number; name: string; args: unknown[] } | { op: 'close'; id: number };

export interface ThreadError {
  message: string;
  sqlerrcode?: string;
  detail?: string;
  hint?: string;
  procedure?: string;
}

export type ThreadResponse =
  | { id: number; ok: true; result: unknown; startedAt: number; finishedAt: number }
  | { id: number; ok: false; error: ThreadError };

const init = workerData as ThreadInit;
const port = parentPort!;
let host: Plv8Host | undefined;

function describe(e: unknown): ThreadError {
  const err: ThreadError = { message: e instanceof Error ? e.message : String(e) };
  if (e instanceof Plv8Error) {
    err.sqlerrcode = e.sqlerrcode;
    if (e.detail !== undefined) err.detail = e.detail;
    if (e.hint !== undefined) err.hint = e.hint;
    if (e.procedure !== undefined) err.procedure = e.procedure;
  }
  return err;
}

async function handle(req: ThreadRequest): Promise<ThreadResponse> {
  if (req.op === 'close') {
    await host?.close();
    host = undefined;
    return { id: req.id, ok: true, result: null, startedAt: Date.now(), finishedAt: Date.now() };
  }
  try {
    host ??= await Plv8Host.open({
      connectionString: init.url, begin: false, applicationName: init.applicationName, sessionSql: init.sessionSql,
      procedures: init.procedures,
    });
    const startedAt = Date.now();
    host.begin();
    try {
      const result = host.call(req.name, req.args);
      host.commit();
      return { id: req.id, ok: true, result, startedAt, finishedAt: Date.now() };
    } catch (e) {
      host.rollback();
      throw e;
    }
  } catch (e) {
    return { id: req.id, ok: false, error: describe(e) };
  }
}

// One request at a time, in order (the runner never posts a second before the first answers).
let queue: Promise<void> = Promise.resolve();
port.on('message', (req: ThreadRequest) => {
  queue = queue.then(async () => port.postMessage(await handle(req)));
});
