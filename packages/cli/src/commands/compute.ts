import { parseArgs } from 'node:util';
import { databaseUrl } from '../db/cluster.ts';
import { connect } from '../db/connect.ts';
import type { ProcedureSession } from '../compute/procedure-host.ts';
import { openProcedureSession, type HostChoice } from '../compute/sessions.ts';
import { runCompute, DEFAULT_BATCH_TRADES } from '../compute/run-compute.ts';
import { CliError, EXIT_CHECKS_FAILED, EXIT_OK } from '../errors.ts';
import { progressBar } from '../progress.ts';
import { allocationVersion, parseTime, positiveInt } from './args.ts';
import { parseSymbols } from './symbols.ts';

export const computeUsage =
  'usage: fifo compute [--all-symbols | --symbol S ...] [--version N] [--force | --incremental] [--since T] [--host auto|plv8|client] [--batch-trades N] [--concurrency K] [--json]';

export async function computeCommand(args: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      'all-symbols': { type: 'boolean' },
      symbol: { type: 'string', multiple: true },
      version: { type: 'string' },
      force: { type: 'boolean' },
      incremental: { type: 'boolean' },
      since: { type: 'string' },
      host: { type: 'string' },
      'batch-trades': { type: 'string' },
      concurrency: { type: 'string' },
      json: { type: 'boolean' },
    },
    strict: true,
  });
  if (values['all-symbols'] && values.symbol) throw new CliError(`--all-symbols and --symbol exclude each other\n${computeUsage}`);
  const host = (values.host ?? 'auto') as HostChoice;
  if (!['auto', 'plv8', 'client'].includes(host)) throw new CliError(`--host must be auto, plv8 or client, got ${JSON.stringify(values.host)}`);
  const version = allocationVersion(values.version);
  if (values.force && values.incremental) throw new CliError('--force and --incremental exclude each other: --force recomputes from scratch');
  const since = values.since === undefined ? null : parseTime('--since', values.since);
  const symbols = parseSymbols(values.symbol);
  const batchTrades = values['batch-trades'] === undefined ? DEFAULT_BATCH_TRADES : positiveInt('--batch-trades', values['batch-trades']);

  const concurrency = values.concurrency === undefined ? 1 : positiveInt('--concurrency', values.concurrency);
  if (concurrency > 32) throw new CliError(`--concurrency must be at most 32, got ${concurrency}`);
  const url = databaseUrl();
  const client = await connect(url);
  const sessions: ProcedureSession[] = [];
  try {
    for (let i = 0; i < concurrency; i++) sessions.push(await openProcedureSession(client, url, host));
  } catch (e) {
    await Promise.all(sessions.map((x) => x.close()));
    await client.end();
    throw e;
  }
  const session = sessions[0]!;
  const bar = progressBar(`compute v${version} (${session.kind})`);
  try {
    const r = await runCompute(client, sessions, {
      version, symbols, force: values.force ?? false, incremental: values.incremental ?? false, since, batchTrades,
      onProgress: (p) => bar.update(p.symbolsDone, p.symbolsTotal, `symbols, ${p.tradesDone} trades`),
    });
    bar.end();
    if (values.json) {
      console.log(JSON.stringify(r));
    } else {
      console.log(`run ${r.computationId}: ${r.status} — version ${r.allocationVersion}, host ${r.host}, ` +
        `${r.symbolsComputed} symbol(s) computed, ${r.symbolsFailed} failed, ${r.tradesProcessed} trades, ` +
        `${r.allocationsWritten} allocations, ${r.unmatchedCount} unmatched, ${(r.durationMs / 1000).toFixed(2)} s`);
      for (const f of r.failures) console.error(`  failed ${f.symbol}: ${f.error}`);
    }
    return r.status === 'success' ? EXIT_OK : EXIT_CHECKS_FAILED;
  } finally {
    bar.end();
    await Promise.all(sessions.map((x) => x.close()));
    await client.end();
  }
}
