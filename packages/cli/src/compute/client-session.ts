/**
 * The Node host: the same procedure bundle, run by packages/plv8's PLV8-compatible host over
 * a connection of ours. Each call is one transaction; an uncaught exception rolls it back.
 *
 * The host's calls are synchronous, so two hosts in the main thread would take turns. A
 * session therefore decides at its first call: when it is the only Node-host session open in
 * the process (one-shot compute, watch) its host runs in the main thread (no thread to start);
 * when K are open (`--concurrency K`) each runs in a worker thread of its own (host-thread.ts)
 * and the K calls run in parallel. A session whose first call is a full recompute also runs in
 * a thread: the thread's heap is limited like PLV8's isolate (256 MB), so the host holds what
 * PLV8 could hold and V8 collects instead of growing (a 1M-trade symbol: ~345 MB RSS, not
 * ~550). Incremental runs (watch, cron) stay in the main thread: no thread to start.
 */
import { Plv8Host } from '@fifo-ledger/plv8/host';
import { SESSION_SQL } from '../db/connect.ts';
import { hostThreadCode, openThreadSession, type CallInterval, type TimedProcedureSession } from './host-thread.ts';
import type { ProcedureSession } from './procedure-host.ts';

const APPLICATION_NAME = 'fifo-ledger compute (node host)';

/** Node-host sessions open in this process. */
let open = 0;

export interface ClientSessionOptions {
  /** Where the host runs: decided at the first call (default), or forced. */
  placement?: 'auto' | 'main' | 'thread';
  /** Settings of the host's session beyond SESSION_SQL. */
  sessionSql?: readonly string[];
}

export interface ClientSession extends TimedProcedureSession {
  /** Where the host ran: null before the first call. */
  readonly placement: 'main' | 'thread' | null;
}

const openMainHost = (url: string, extra: readonly string[] = []): Promise<Plv8Host> =>
  Plv8Host.open({ connectionString: url, begin: false, applicationName: APPLICATION_NAME, sessionSql: [...SESSION_SQL, ...extra] });

/** A main-thread host started ahead of its first call (see prewarmMainThreadHost), with its closer. */
let prewarmed: { url: string; host: Promise<Plv8Host>; close: () => Promise<void> } | null = null;

/**
 * Starts a main-thread host (its database worker, connection and session settings) while the
 * caller does other work, for a one-shot run that will most likely use it: the start-up (~0.1 s)
 * then overlaps the runner's own connection and queries. Returns a function that closes it
 * when no session took it. A second call for the same URL (the command, after main.ts started
 * the host early) gets the host already starting, and the same closer.
 */
export function prewarmMainThreadHost(url: string): () => Promise<void> {
  if (prewarmed?.url === url) return prewarmed.close;
  const host = openMainHost(url);
  host.catch(() => {}); // a failed start is reported by the session that takes it, or nowhere
  const close = async () => {
    if (prewarmed?.host !== host) return;
    prewarmed = null;
    await (await host.catch(() => undefined))?.close();
  };
  prewarmed = { url, host, close };
  return close;
}

function takePrewarmed(url: string): Promise<Plv8Host> | null {
  if (prewarmed?.url !== url) return null;
  const { host } = prewarmed;
  prewarmed = null;
  return host;
}

function mainThreadSession(url: string, extra: readonly string[]): TimedProcedureSession {
  let host: Plv8Host | undefined;
  const calls: CallInterval[] = [];
  return {
    kind: 'client',
    calls,
    async callInTransaction(name, args) {
      host ??= await ((extra.length === 0 ? takePrewarmed(url) : null) ?? openMainHost(url, extra));
      const startedAt = Date.now();
      host.begin();
      try {
        const result = host.call(name, args);
        host.commit();
        calls.push({ name, startedAt, finishedAt: Date.now() });
        return result;
      } catch (e) {
        host.rollback();
        throw e;
      }
    },
    async close() {
      await host?.close();
    },
  };
}

export async function openClientSession(url: string, opts: ClientSessionOptions = {}): Promise<ClientSession> {
  open++;
  let closed = false;
  let inner: TimedProcedureSession | undefined;
  let placement: 'main' | 'thread' | null = null;
  let opening: Promise<TimedProcedureSession> | undefined;
  const start = async (name: string, args: readonly unknown[]): Promise<TimedProcedureSession> => {
    const want = opts.placement ?? 'auto';
    const full = name === 'fifo_compute' && args[2] !== 'incremental';
    const thread = want === 'thread' || (want === 'auto' && (open > 1 || full) && hostThreadCode() !== null);
    placement = thread ? 'thread' : 'main';
    const extra = opts.sessionSql ?? [];
    inner = thread ? await openThreadSession(url, APPLICATION_NAME, [...SESSION_SQL, ...extra]) : mainThreadSession(url, extra);
    return inner;
  };
  return {
    kind: 'client',
    get placement() {
      return placement;
    },
    get calls() {
      return inner?.calls ?? [];
    },
    async callInTransaction(name, args) {
      opening ??= start(name, args);
      return (await opening).callInTransaction(name, args);
    },
    async close() {
      if (closed) return;
      closed = true;
      open--;
      if (opening) await (await opening.catch(() => undefined))?.close();
    },
  };
}

