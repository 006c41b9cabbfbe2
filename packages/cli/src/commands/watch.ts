import { databaseUrl } from '../db/cluster.ts';
import { connect } from '../db/connect.ts';
import { startWatcher } from '../compute/watcher.ts';
import { versionMethod } from '../queries/versions.ts';
import { onFlags } from './domain-errors.ts';
import { parseCommand } from '../cli/parse.ts';
import type { ParsedCommand } from '../cli/spec.ts';

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
  return run(parseCommand('watch', args));
}

export async function run({ values }: ParsedCommand<'watch'>): Promise<number> {
  const { version, host, 'debounce-ms': debounceMs, 'long-held-every-ms': longHeldEveryMs } = values;
  const url = databaseUrl();
  const probe = await connect(url);
  try {
    await onFlags(versionMethod(probe, version), { no_such_version: '--version' });
  } finally {
    await probe.end();
  }
  const stamp = () => new Date().toISOString();
  console.error(`${stamp()} fifo watch: version ${version}, pid ${process.pid}`);
  const watcher = startWatcher({ url, version, host, debounceMs, longHeldEveryMs, log: (l) => console.error(`${stamp()} ${l}`) });
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
