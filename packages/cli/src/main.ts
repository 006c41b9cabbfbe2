#!/usr/bin/env node
/** `fifo`: the thin runner (SPEC §5). Exit codes: 0 ok, 1 checks failed, 2 usage or input error. */
import { dbCommand } from './commands/db.ts';
import { demoCommand } from './commands/demo.ts';
import { healthCommand } from './commands/health.ts';
import { migrateCommand } from './commands/migrate.ts';
import { CliError, EXIT_USAGE } from './errors.ts';

const commands: Record<string, (args: readonly string[]) => Promise<number>> = {
  db: dbCommand,
  migrate: migrateCommand,
  health: healthCommand,
  demo: demoCommand,
};

const usage = `usage: fifo <command> [options]

commands:
  db start|stop|url|status   the embedded PostgreSQL cluster (ignored when DATABASE_URL is set)
  migrate up|down            apply or revert the schema (down keeps facts unless --drop-facts)
  health [--version N]       v_allocation_health for one allocation version
  demo                       start the embedded database, migrate, print health

environment: DATABASE_URL picks the database; FIFO_ALLOCATION_VERSION the default version (1).`;

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage);
    return name ? 0 : EXIT_USAGE;
  }
  const command = commands[name];
  if (!command) throw new CliError(`unknown command ${JSON.stringify(name)}\n${usage}`);
  return command(args);
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    if (err instanceof CliError) {
      console.error(`fifo: ${err.message}`);
      process.exitCode = err.exitCode;
    } else if (err instanceof TypeError && (err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`fifo: ${err.message}`);
      process.exitCode = EXIT_USAGE;
    } else {
      const e = err as Error & { detail?: string; hint?: string; where?: string };
      console.error(`fifo: ${e.message ?? String(err)}`);
      if (e.detail) console.error(`detail: ${e.detail}`);
      if (e.hint) console.error(`hint: ${e.hint}`);
      if (process.env.FIFO_DEBUG) console.error(e.stack);
      process.exitCode = 1;
    }
  },
);
