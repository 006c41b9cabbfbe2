/**
 * The one-shot `fifo compute --incremental` (what cron runs) waits mostly for its Node host to
 * start (a thread, `pg` in it, a connection). main.ts calls this as soon as the arguments are
 * parsed: the host's database thread starts before the command's own modules (and pg) load,
 * then the host itself (the command's prewarmMainThreadHost gets the same one).
 */
import { Plv8Host } from '@fifo-ledger/plv8/host';
import type { ParsedCommand } from '../cli/spec.ts';

/** Starts the host when the command will run one in the main thread; the closer of an untaken one. */
export async function startEarlyHost({ values }: ParsedCommand<'compute'>): Promise<(() => Promise<void>) | null> {
  // the command's own condition (commands/compute.ts); the errors it raises first leave it untaken
  if (values.host === 'plv8' || values.concurrency !== 1 || !values.incremental || values.force) return null;
  Plv8Host.startEarly();
  // loaded only now: these bring pg and the database helpers
  const [{ prewarmMainThreadHost }, { databaseUrl }] = await Promise.all([import('./client-session.ts'), import('../db/cluster.ts')]);
  let close: () => Promise<void>;
  try {
    close = prewarmMainThreadHost(databaseUrl());
  } catch (e) {
    await Plv8Host.discardEarly();
    throw e;
  }
  return async () => {
    await close();
    await Plv8Host.discardEarly();
  };
}
