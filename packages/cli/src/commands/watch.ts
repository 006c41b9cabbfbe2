import { parseArgs } from 'node:util';
import { databaseUrl } from '../db/cluster.ts';
import { connect } from '../db/connect.ts';
import { startWatcher } from '../compute/watcher.ts';
import type { HostChoice } from '../compute/sessions.ts';
import { requireVersion } from '../db/versions.ts';
import { CliError } from '../errors.ts';
import { allocationVersion, positiveInt } from './args.ts';

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
  const watcher = startWatcher({ url, version, host, debounceMs, log: (l) => console.error(`${stamp()} ${l}`) });
  const stop = () => {
    console.error(`${stamp()} stopping after the current run`);
    void watcher.stop();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await watcher.done;
  console.error(`${stamp()} stopped`);
  return 0;
}
