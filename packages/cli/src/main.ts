#!/usr/bin/env node
/**
 * `fifo`: the thin runner (docs/CONTRACT.md §9). Exit codes: 0 ok, 1 checks failed, 2 usage or input error.
 * Commands, flags and help are declared once in cli/spec.ts. A command's module (and pg with
 * it) is loaded only after its arguments parsed: `fifo --version` and every --help load none.
 */
import pkg from '../package.json' with { type: 'json' };
import { commandHelp, mainHelp } from './cli/help.ts';
import { HelpRequested, isCommand, parseCommand } from './cli/parse.ts';
import type { CommandName, ParsedCommand } from './cli/spec.ts';
import { toCliError } from './commands/domain-errors.ts';
import { DomainError } from './domain-error.ts';
import { CliError, EXIT_USAGE } from './errors.ts';

type Runner<N extends CommandName> = () => Promise<(p: ParsedCommand<N>) => Promise<number>>;

const runners: { [N in CommandName]: Runner<N> } = {
  db: async () => (await import('./commands/db.ts')).run,
  migrate: async () => (await import('./commands/migrate.ts')).run,
  'install-procedures': async () => (await import('./commands/install-procedures.ts')).run,
  compute: async () => (await import('./commands/compute.ts')).run,
  watch: async () => (await import('./commands/watch.ts')).run,
  validate: async () => (await import('./commands/validate.ts')).run,
  health: async () => (await import('./commands/health.ts')).run,
  'sample-ledger': async () => (await import('./commands/sample.ts')).run,
  report: async () => (await import('./commands/report.ts')).run,
  review: async () => (await import('./commands/review.ts')).run,
  diff: async () => (await import('./commands/diff.ts')).run,
  'legacy-compare': async () => (await import('./commands/legacy-compare.ts')).run,
  import: async () => (await import('./commands/import.ts')).run,
  reconcile: async () => (await import('./commands/reconcile.ts')).run,
  export: async () => (await import('./commands/export.ts')).run,
  demo: async () => (await import('./commands/demo.ts')).run,
  versions: async () => (await import('./commands/versions.ts')).run,
};

// `fifo ... | head`: the reader went away; stop quietly, as Unix tools do, not with a stack
// trace. Whatever was mid-transaction rolls back with the connection.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
    throw err;
  });
}

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === '--version' || name === '-V') {
    console.log(pkg.version);
    return 0;
  }
  if (name === 'help' && args[0] !== undefined && isCommand(args[0])) {
    console.log(commandHelp(args[0], args[1]));
    return 0;
  }
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(mainHelp());
    return name ? 0 : EXIT_USAGE;
  }
  if (!isCommand(name)) throw new CliError(`unknown command ${JSON.stringify(name)}\n${mainHelp()}`);
  let parsed: ParsedCommand<CommandName>;
  try {
    parsed = parseCommand(name, args);
  } catch (e) {
    if (!(e instanceof HelpRequested)) throw e;
    console.log(commandHelp(e.command, e.action));
    return 0;
  }
  const early = name === 'compute' ? await (await import('./compute/early-host.ts')).startEarlyHost(parsed as ParsedCommand<'compute'>) : null;
  try {
    const run = (await runners[name]()) as (p: typeof parsed) => Promise<number>;
    return await run(parsed);
  } finally {
    await early?.(); // closes it only when the command did not take it
  }
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    if (err instanceof CliError) {
      console.error(`fifo: ${err.message}`);
      process.exitCode = err.exitCode;
    } else if (err instanceof DomainError) {
      // an input problem no command mapped to its flag: still an input problem (exit 2)
      const e = toCliError(err) as CliError;
      console.error(`fifo: ${e.message}`);
      process.exitCode = e.exitCode;
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
