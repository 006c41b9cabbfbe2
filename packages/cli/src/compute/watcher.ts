/**
 * `fifo watch`: LISTEN fifo_ledger (the ledger trigger NOTIFYs each changed symbol), batch
 * bursts for `debounceMs`, and run an incremental compute of those symbols. Catches up on
 * start and after every reconnect (whatever is dirty), reconnects after a database restart,
 * and stops between runs: a run is one transaction per batch, so a stop never half-writes.
 *
 * Any login may NOTIFY fifo_ledger, so a payload is only a hint: it must look like a symbol,
 * at most MAX_PENDING distinct names are kept per window (more and the watcher falls back to
 * the dirty markers, which only the ledger trigger writes), and a run is started only for
 * symbols the ledger marked dirty. Junk costs two small reads per window and writes nothing.
 */
import pg from 'pg';
import { connect } from '../db/connect.ts';
import { SYMBOL_PATTERN } from '../ledger-io/values.ts';
import { runCompute, type ComputeRunResult } from './run-compute.ts';
import type { ProcedureSession } from './procedure-host.ts';
import { openProcedureSession, type HostChoice } from './sessions.ts';

export interface WatchOptions {
  url: string;
  version: number;
  host: HostChoice;
  debounceMs?: number;
  /** How often every symbol's long_held_lot items are judged (default LONG_HELD_EVERY_MS). */
  longHeldEveryMs?: number;
  log?: (line: string) => void;
  onRun?: (r: ComputeRunResult) => void;
}

export interface Watcher {
  /** Resolves when the watcher has stopped (after `stop()`). */
  done: Promise<void>;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Distinct symbols kept from notifications per debounce window; beyond, catch up from the dirty markers. */
export const MAX_PENDING = 1000;
/** At most one "ignored notifications" line per this many ms. */
const IGNORED_LOG_MS = 60_000;

/**
 * The watcher's procedure session judges no long_held_lot items per run (that reads each
 * symbol's whole history, ~3 ms a symbol, on every batch): time, not trades, makes a lot long
 * held, so the watcher judges every symbol at start and then every LONG_HELD_EVERY_MS
 * (`--long-held-every-ms`).
 */
export const WATCH_SESSION_SQL: readonly string[] = ['SET fifo.long_held_in_compute = off'];
export const LONG_HELD_EVERY_MS = 10 * 60_000;

export function startWatcher(opts: WatchOptions): Watcher {
  const log = opts.log ?? (() => {});
  const debounce = opts.debounceMs ?? 200;
  let stopping = false;
  let pending = new Set<string>();
  let catchUp = true;
  let wake: (() => void) | undefined;
  let listener: pg.Client | undefined;
  let ignored = 0;
  let ignoredLoggedAt = 0;

  const nudge = () => wake?.();

  async function listen(): Promise<void> {
    const c = new pg.Client({ connectionString: opts.url, application_name: 'fifo-ledger watch' });
    c.on('notification', (n) => {
      const p = n.payload ?? '';
      if (!SYMBOL_PATTERN.test(p)) {
        ignored++;
        return;
      }
      if (catchUp) return; // the next run reads every dirty symbol anyway
      pending.add(p);
      if (pending.size > MAX_PENDING) {
        pending = new Set();
        catchUp = true;
      }
      nudge();
    });
    c.on('error', () => {
      if (listener === c) listener = undefined;
      nudge();
    });
    c.on('end', () => {
      if (listener === c) listener = undefined;
      nudge();
    });
    await c.connect();
    await c.query('LISTEN fifo_ledger');
    listener = c;
    catchUp = true; // changes made while we were not listening
    log('listening for ledger changes');
  }

  // One connection and procedure session for all runs, reopened after a failure.
  let worker: { client: pg.Client; session: ProcedureSession } | undefined;
  async function closeWorker(): Promise<void> {
    const w = worker;
    worker = undefined;
    await w?.session.close().catch(() => {});
    await w?.client.end().catch(() => {});
  }

  async function ensureWorker(): Promise<{ client: pg.Client; session: ProcedureSession }> {
    if (!worker) {
      const client = await connect(opts.url);
      client.on('error', () => {}); // surfaces on the next query; the loop reconnects
      worker = { client, session: await openProcedureSession(client, opts.url, opts.host, WATCH_SESSION_SQL) };
    }
    return worker;
  }

  function reportIgnored(): void {
    if (ignored === 0 || Date.now() - ignoredLoggedAt < IGNORED_LOG_MS) return;
    log(`ignored ${ignored} notification(s) on fifo_ledger whose payload is not a symbol`);
    ignored = 0;
    ignoredLoggedAt = Date.now();
  }

  async function computeOnce(symbols: string[] | null): Promise<void> {
    reportIgnored();
    const w = await ensureWorker();
    try {
      // an incremental run selects exactly the dirty symbols among those named: a notification
      // naming nothing dirty (or cleaned by another runner meanwhile) starts no run and logs none
      const r = await runCompute(w.client, w.session, {
        version: opts.version, symbols, force: false, incremental: true, strictSymbols: false, logEmptyRun: false,
      });
      if (r.computationId === null) return;
      if (r.symbolsConsidered > 0) {
        log(`run ${r.computationId}: ${r.status}, ${r.symbolsComputed} symbol(s), ${r.tradesProcessed} trades, ` +
          `${r.allocationsWritten} allocations, ${r.durationMs} ms`);
      }
      for (const f of r.failures.slice(0, 20)) log(`run ${r.computationId}: ${f.symbol} failed: ${f.error ?? 'no reason given'}`);
      if (r.failures.length > 20) log(`run ${r.computationId}: ... and ${r.failures.length - 20} more failed symbol(s) (fifo health, fifo_computation_log.error)`);
      opts.onRun?.(r);
    } catch (e) {
      await closeWorker();
      throw e;
    }
  }

  let longHeldDue = 0; // at the first chance
  async function judgeLongHeld(): Promise<void> {
    longHeldDue = Date.now() + (opts.longHeldEveryMs ?? LONG_HELD_EVERY_MS);
    const w = await ensureWorker();
    const { rows } = await w.client.query<{ r: { raised: number; updated: number; resolved: number } }>(
      'SELECT fifo_refresh_long_held_lots($1, NULL, fifo_long_held_as_of(), NULL) AS r', [opts.version]);
    const r = rows[0]?.r;
    if (r && r.raised + r.updated + r.resolved > 0) {
      log(`long_held_lot: ${r.raised} raised, ${r.updated} updated, ${r.resolved} resolved`);
    }
  }

  async function loop(): Promise<void> {
    let backoff = 250;
    while (!stopping) {
      try {
        if (!listener) await listen();
        backoff = 250;
        if (!catchUp && pending.size === 0) {
          const dueIn = Math.max(0, longHeldDue - Date.now());
          let timer: NodeJS.Timeout | undefined;
          await new Promise<void>((r) => {
            wake = r;
            timer = setTimeout(r, dueIn);
          });
          clearTimeout(timer);
          wake = undefined;
          if (stopping) break;
          if (!catchUp && pending.size === 0) {
            await judgeLongHeld();
            continue;
          }
          await sleep(debounce); // let a burst of commits arrive
        }
        if (!listener) continue;
        const symbols = catchUp ? null : [...pending];
        catchUp = false;
        pending = new Set();
        await computeOnce(symbols);
        if (Date.now() >= longHeldDue) await judgeLongHeld();
      } catch (e) {
        if (stopping) break;
        log(`database unavailable (${(e as Error).message}); retrying in ${backoff} ms`);
        await listener?.end().catch(() => {});
        listener = undefined;
        catchUp = true;
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 5_000);
      }
    }
    await listener?.end().catch(() => {});
    await closeWorker();
  }

  const done = loop();
  return {
    done,
    async stop() {
      stopping = true;
      nudge();
      await done;
    },
  };
}
