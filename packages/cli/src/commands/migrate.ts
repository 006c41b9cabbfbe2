import { databaseUrl } from '../db/cluster.ts';
import { connect } from '../db/connect.ts';
import { migrate } from '../db/migrate.ts';
import { CliError, EXIT_USAGE } from '../errors.ts';
import { parseCommand } from '../cli/parse.ts';
import type { ParsedCommand } from '../cli/spec.ts';

export async function migrateCommand(args: readonly string[]): Promise<number> {
  return run(parseCommand('migrate', args));
}

/** The entries of a search_path setting, unquoted (unquoted names fold to lower case, as PostgreSQL reads them). */
export function searchPathEntries(setting: string): string[] {
  const out: string[] = [];
  const re = /\s*(?:"((?:[^"]|"")*)"|([^,\s]+))\s*(?:,|$)/gy;
  let m: RegExpExecArray | null;
  while (re.lastIndex < setting.length && (m = re.exec(setting)) !== null) {
    out.push(m[1] !== undefined ? m[1].replaceAll('""', '"') : m[2]!.toLowerCase());
  }
  return out;
}

/**
 * The schema a connection works in: the first schema of its search_path ("$user" counts when
 * that schema exists), even one not created yet (migrate creates it). current_schema() is the
 * same whenever that schema exists.
 */
async function connectionSchema(url: string): Promise<string> {
  const client = await connect(url);
  try {
    const { rows: [r] } = await client.query<{ path: string; usr: string; user_schema: boolean }>(
      `SELECT current_setting('search_path') AS path, current_user AS usr,
              EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = current_user) AS user_schema`);
    for (const e of searchPathEntries(r!.path)) {
      if (e === '$user') {
        if (r!.user_schema) return r!.usr;
      } else if (e !== 'pg_catalog' && e !== 'pg_temp') {
        return e;
      }
    }
    throw new CliError(`the connection's search_path (${JSON.stringify(r!.path)}) names no schema: pass --schema NAME`);
  } finally {
    await client.end();
  }
}

export async function run({ action: direction, values }: ParsedCommand<'migrate'>): Promise<number> {
  const url = databaseUrl();
  const schema = values.schema ?? (await connectionSchema(url));
  const ran = await migrate({
    url,
    direction,
    count: values.count,
    schema,
    dropFacts: direction === 'down' && values['drop-facts'],
    log: (m) => console.error(m),
  }).catch((e: unknown) => {
    throw adoptionInputError(e) ?? e;
  });
  console.error(ran.length ? `migrated ${direction}: ${ran.join(', ')} (schema ${schema})` : `nothing to migrate ${direction} (schema ${schema})`);
  return 0;
}

/**
 * Adoption refusals are about the legacy table's contents or shape (duplicate order ids, an
 * order_time of an unreadable type): input problems, exit 2, with the database's message and
 * its hint (the query that finds the rows, the conversion to run) kept.
 */
function adoptionInputError(e: unknown): CliError | undefined {
  const err = e as { message?: unknown; code?: unknown; hint?: unknown };
  if (typeof err.message !== 'string') return undefined;
  const adoption = err.message.startsWith('cannot adopt existing trade_records')
    || (err.code === '42804' && err.message.startsWith('trade_records.order_time is of type'));
  if (!adoption) return undefined;
  return new CliError(typeof err.hint === 'string' && err.hint ? `${err.message}\nhint: ${err.hint}` : err.message, EXIT_USAGE);
}
