import { parseArgs } from 'node:util';
import { databaseUrl } from '../db/cluster.ts';
import { migrate } from '../db/migrate.ts';
import { CliError } from '../errors.ts';
import { positiveInt } from './args.ts';

export const migrateUsage = 'usage: fifo migrate up | down [--count N] [--drop-facts] [--schema NAME]';

export async function migrateCommand(args: readonly string[]): Promise<number> {
  const [direction, ...rest] = args;
  if (direction !== 'up' && direction !== 'down') {
    throw new CliError(direction ? `fifo migrate: unknown direction ${JSON.stringify(direction)}\n${migrateUsage}` : migrateUsage);
  }
  const { values } = parseArgs({
    args: [...rest],
    options: { count: { type: 'string' }, 'drop-facts': { type: 'boolean' }, schema: { type: 'string' } },
    strict: true,
  });
  if (values['drop-facts'] && direction === 'up') throw new CliError('--drop-facts only applies to `migrate down`');
  if (values.schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(values.schema)) {
    throw new CliError(`--schema must be a plain lower-case identifier, got ${JSON.stringify(values.schema)}`);
  }
  const ran = await migrate({
    url: databaseUrl(),
    direction,
    count: values.count === undefined ? undefined : positiveInt('--count', values.count),
    schema: values.schema,
    dropFacts: values['drop-facts'] ?? false,
    log: (m) => console.error(m),
  });
  console.error(ran.length ? `migrated ${direction}: ${ran.join(', ')}` : `nothing to migrate ${direction}`);
  return 0;
}
