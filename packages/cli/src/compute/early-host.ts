/**
 * The one-shot `fifo compute --incremental` (what cron runs) waits mostly for its Node host to
 * start (a thread, `pg` in it, a connection). main.ts calls this as soon as the arguments are
 * parsed, before the command's own modules load, so that start overlaps them; the command's
 * prewarmMainThreadHost then gets the same host.
 */
import type { ParsedCommand } from '../cli/spec.ts';
import { databaseUrl } from '../db/cluster.ts';
import { prewarmMainThreadHost } from './client-session.ts';

/** Starts the host when the command will run one in the main thread; the closer of an untaken one. */
export function startEarlyHost({ values }: ParsedCommand<'compute'>): (() => Promise<void>) | null {
  // the command's own condition (commands/compute.ts); the errors it raises first leave it untaken
  if (values.host === 'plv8' || values.concurrency !== 1 || !values.incremental || values.force) return null;
  return prewarmMainThreadHost(databaseUrl());
}
