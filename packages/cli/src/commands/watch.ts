import { parseArgs } from 'node:util';
import { databaseUrl } from '../db/cluster.ts';
import { connect } from '../db/connect.ts';
import { startWatcher } from '../compute/watcher.ts';
import type { HostChoice } from '../compute/sessions.ts';
import { requireVersion } from '../db/versions.ts';
import { CliError } from '../errors.ts';
import { allocationVersion, positiveInt } from './args.ts';

/**
 * Started through a package-manager script (`pnpm fifo watch`), the watcher must not outlive
 * that wrapper: a supervisor stops what it started, and if the wrapper dies without passing
 * the signal on (SIGKILL, a shell that does not forward it), this process is re-parented and
 * `process.ppid` changes. Run directly (`node ...`), the parent is the user's business (nohup).
 */
function watchParent(onGone: () => void): NodeJS.Timeout | undefined {
  if (!process.env.npm_lifecycle_event) return undefined;
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(timer);
      onGone();
    }
  }, 500);
  timer.unref();
  return timer;
}

export async function watchCommand(args: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: { version: { type: 'string' }, host: { type: 'string' }, 'debounce-ms': { type: 'string' } },
    strict: true,
  });
  const version = allocationVersion(values.version);
  const host = (values.host ?? 'auto') as HostChoice;
  if (!['auto', 'plv8', 'client'].includes(host)) throw new CliError(`--host must be auto, plv8 or client, got ${JSON.stringify(values.host)}`);
  const debounceMs = values['debounce-ms'] === undefined ? 200 : positiveInt('--debounce-ms', values['debounce-ms']);
  const url = databaseUrl();
  const probe = await connect(url);
  try {
    await requireVersion(probe, version);
  } finally {
    await probe.end();
  }
  const stamp = () => new Date().toISOString();
  console.error(`${stamp()} fifo watch: version ${version}, pid ${process.pid}`);
  const watcher = startWatcher({ url, version, host, debounceMs, log: (l) => console.error(`${stamp()} ${l}`) });
  const stop = () => {
    console.error(`${stamp()} stopping after the current run`);
    void watcher.stop();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const orphaned = watchParent(() => {
    console.error(`${stamp()} the process that started fifo watch (${process.env.npm_lifecycle_event ? 'pnpm' : 'parent'}) is gone`);
    stop();
  });
  await watcher.done;
  clearInterval(orphaned);
  console.error(`${stamp()} stopped`);
  return 0;
}
