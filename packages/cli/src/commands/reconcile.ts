import { databaseUrl } from '../db/cluster.ts';
import { connect } from '../db/connect.ts';
import { openProcedureSession } from '../compute/sessions.ts';
import { runCompute } from '../compute/run-compute.ts';
import { CliError, EXIT_CHECKS_FAILED, EXIT_OK } from '../errors.ts';
import { table } from '../format.ts';
import { readBalances } from '../ledger-io/balances.ts';
import { parseTimestamp, ValueError } from '../ledger-io/values.ts';
import { parseCommand } from '../cli/parse.ts';
import type { ParsedCommand } from '../cli/spec.ts';
import { readCsvFile } from '../ledger-io/csv-file.ts';
import { dirtyCoveredSymbols } from '../queries/reconciliation.ts';
import { versionMethod, versionPooling } from '../queries/versions.ts';
import { reconcileBalances } from '../reconcile/drift.ts';
import { onFlags, onFlagsSync } from './domain-errors.ts';

function wrap<T>(f: () => T, prefix = ''): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof ValueError) throw new CliError(`${prefix}${e.message}`);
    throw e;
  }
}

export async function reconcileCommand(args: readonly string[]): Promise<number> {
  return run(parseCommand('reconcile', args));
}

export async function run({ values }: ParsedCommand<'reconcile'>): Promise<number> {
  const { version, dust } = values;
  const asOf = values['as-of'] === undefined ? null : wrap(() => parseTimestamp(values['as-of']!, { assumeUtc: values.utc }), '--as-of ');
  const file = values.balances;
  const csv = onFlagsSync(() => readCsvFile(file));
  const { balances, errors } = wrap(() => readBalances(csv, { asOf, assumeUtc: values.utc, account: values.account ?? null }), `${file}: `);
  if (errors.length > 0) {
    throw new CliError(`${file}: ${errors.length} problem(s); nothing reconciled\n${errors.slice(0, 50).map((e) => `  ${file} ${e}`).join('\n')}`);
  }
  if (balances.length === 0) throw new CliError(`${file}: no balances (only a header)`);

  const url = databaseUrl();
  const client = await connect(url);
  try {
    await onFlags(versionMethod(client, version), { no_such_version: '--version' });
    // an account's lots exist apart only under per_account pooling (issue 14)
    if (balances.some((b) => b.account !== null) && (await versionPooling(client, version)) !== 'per_account') {
      throw new CliError(`${file}: balances per account need a per_account version; version ${version} pools every account's lots ` +
        '(fifo versions add --pooling per_account, then --version N)');
    }
    // which ledger symbols the balances cover that wait for a recompute
    const dirty = await dirtyCoveredSymbols(client, version, balances);
    if (dirty && dirty.length > 0) {
      if (values['no-compute']) {
        console.error(`fifo: warning: ${dirty.join(', ')} changed since version ${version} was computed; the comparison uses the stale allocations`);
      } else {
        // the allocations must reflect the ledger before their open lots are compared
        const session = await openProcedureSession(client, url, 'auto');
        try {
          const r = await runCompute(client, session, { version, symbols: dirty, force: false });
          if (r.status !== 'success') {
            throw new CliError(`computing ${dirty.join(', ')} before reconciling failed: ${r.failures.map((f) => `${f.symbol}: ${f.error}`).join('; ')}`, EXIT_CHECKS_FAILED);
          }
        } finally {
          await session.close();
        }
      }
    }

    const rows = await reconcileBalances(client, version, balances, { dust, file });

    const drifted = rows.filter((r) => r.status === 'drift');
    if (values.json) {
      console.log(JSON.stringify({ version, dust, drift: drifted.length, rows }));
    } else {
      console.log(table(rows.map((r) => ({
        line: r.line, asset: r.symbol ?? r.asset, ...(r.account === null ? {} : { account: r.account }), as_of: r.as_of,
        exchange: r.exchange_balance, ledger: r.ledger_open_size,
        drift: r.drift, status: r.status === 'drift' ? 'DRIFT' : r.status, review: r.review_id ?? '',
      }))));
      const notTracked = rows.filter((r) => r.status === 'not tracked').map((r) => r.asset);
      if (notTracked.length > 0) console.log(`not tracked: ${notTracked.join(', ')} (only a quote currency in the ledger: no lots to compare)`);
      console.log(drifted.length === 0
        ? `version ${version}: every balance matches the open lots within ${dust}`
        : `version ${version}: ${drifted.length} balance(s) drift beyond ${dust}: ledger_drift review items ${drifted.map((r) => r.review_id).join(', ')} (fifo review show ID)`);
    }
    return drifted.length > 0 ? EXIT_CHECKS_FAILED : EXIT_OK;
  } finally {
    await client.end();
  }
}
