/**
 * `fifo install-procedures`: installs or refreshes the PLV8 procedures of the current bundle
 * in a migrated schema and re-applies its pins and grants (fifo_apply_security), in one
 * transaction. `migrate up` does the same after migrating; this is for a database whose
 * migrations are current but whose procedures are not (or were tampered with).
 */
import { databaseUrl } from '../db/cluster.ts';
import { connect } from '../db/connect.ts';
import { installProcedures } from '@fifo-ledger/plv8/install';
import { CliError } from '../errors.ts';
import { parseCommand } from '../cli/parse.ts';
import type { ParsedCommand } from '../cli/spec.ts';

export async function installProceduresCommand(args: readonly string[]): Promise<number> {
  return run(parseCommand('install-procedures', args));
}

export async function run({ values }: ParsedCommand<'install-procedures'>): Promise<number> {
  const client = await connect(databaseUrl());
  try {
    if (values.schema !== undefined) await client.query(`SET search_path TO "${values.schema}"`);
    const { rows: [env] } = await client.query<{ schema: string | null; migrated: boolean }>(
      `SELECT current_schema() AS schema, to_regprocedure('fifo_apply_security()') IS NOT NULL AS migrated`);
    const schema = env?.schema ?? values.schema ?? '(none)';
    if (!env?.schema || !env.migrated) {
      throw new CliError(`schema ${schema} is not migrated (no fifo_apply_security()): run \`fifo migrate up${values.schema ? ` --schema ${values.schema}` : ''}\` first`);
    }
    await client.query('BEGIN');
    let r;
    try {
      r = await installProcedures(client, { force: values.force });
      if (!r.securityApplied) await client.query('SELECT fifo_apply_security()');
      await client.query('COMMIT');
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {});
      throw e;
    }
    if (!r.plv8) {
      console.log(`schema ${schema}: PLV8 is not installed in this database; the procedures run in the Node host (fifo compute uses it)`);
      const s = r.standIns;
      if (s.created.length > 0 || s.dropped.length > 0) {
        console.log(`stand-ins brought in step with the bundle: ${[...s.created.map((x) => `+${x}`), ...s.dropped.map((x) => `-${x}`)].join(', ')}`);
      }
    } else if (r.action === 'installed') {
      console.log(`schema ${schema}: PLV8 procedures installed (bundle ${r.bundleId}): ${r.created.join(', ')}`);
      if (r.dropped.length > 0) console.log(`dropped: ${r.dropped.join(', ')}`);
    } else {
      console.log(`schema ${schema}: PLV8 procedures already current (bundle ${r.bundleId}); --force re-creates them`);
    }
    console.log(`schema ${schema}: search_path pins and grants re-applied (fifo_apply_security)`);
    return 0;
  } finally {
    await client.end();
  }
}
