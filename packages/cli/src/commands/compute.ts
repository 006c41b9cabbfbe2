import { databaseUrl } from '../db/cluster.ts';
import { connect } from '../db/connect.ts';
import type { ProcedureSession } from '../compute/procedure-host.ts';
import { openProcedureSession } from '../compute/sessions.ts';
import { prewarmMainThreadHost } from '../compute/client-session.ts';
import { runCompute, DEFAULT_BATCH_TRADES } from '../compute/run-compute.ts';
import { CliError, EXIT_CHECKS_FAILED, EXIT_OK } from '../errors.ts';
import { onFlags } from './domain-errors.ts';
import { progressBar } from '../progress.ts';
import { usageOf } from '../cli/help.ts';
import { parseCommand } from '../cli/parse.ts';
import type { ParsedCommand } from '../cli/spec.ts';

export async function computeCommand(args: readonly string[]): Promise<number> {
  return run(parseCommand('compute', args));
}

export async function run({ values }: ParsedCommand<'compute'>): Promise<number> {
  if (values['all-symbols'] && values.symbol) throw new CliError(`--all-symbols and --symbol exclude each other\n${usageOf('compute')}`);
  if (values.force && values.incremental) throw new CliError('--force and --incremental exclude each other: --force recomputes from scratch');
  const { version, host, concurrency } = values;
  const since = values.since?.time ?? null;
  const symbols = values.symbol;
  const batchTrades = values['batch-trades'] ?? DEFAULT_BATCH_TRADES;
  const url = databaseUrl();
  // An incremental one-shot (cron) runs its Node host in the main thread: start that host now,
  // beside our own connection and queries, not after them. A full recompute uses a thread.
  const unusedHost = host !== 'plv8' && concurrency === 1 && values.incremental ? prewarmMainThreadHost(url) : null;
  let client;
  try {
    client = await connect(url);
  } catch (e) {
    await unusedHost?.();
    throw e;
  }
  const sessions: ProcedureSession[] = [];
  try {
    for (let i = 0; i < concurrency; i++) sessions.push(await onFlags(openProcedureSession(client, url, host), { plv8_not_installed: '--host' }));
  } catch (e) {
    await Promise.all(sessions.map((x) => x.close()));
    await unusedHost?.();
    await client.end();
    throw e;
  }
  const session = sessions[0]!;
  if (session.kind !== 'client') await unusedHost?.(); // the procedures are installed: PLV8 runs it
  const bar = progressBar(`compute v${version} (${session.kind})`);
  try {
    const r = await onFlags(runCompute(client, sessions, {
      version, symbols, force: values.force, incremental: values.incremental, since, batchTrades, connect: () => connect(url),
      onProgress: (p) => bar.update(p.symbolsDone, p.symbolsTotal, `symbols, ${p.tradesDone} trades`),
    }), { no_such_version: '--version', unknown_symbols: '--symbol' });
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
    await unusedHost?.();
    await client.end();
  }
}
