#!/usr/bin/env node
/** `fifo`: the thin runner (SPEC §5). Exit codes: 0 ok, 1 checks failed, 2 usage or input error. */
import { computeCommand } from './commands/compute.ts';
import { dbCommand } from './commands/db.ts';
import { reportCommand } from './commands/report.ts';
import { reviewCommand } from './commands/review.ts';
import { diffCommand } from './commands/diff.ts';
import { legacyCompareCommand } from './commands/legacy-compare.ts';
import { importCommand } from './commands/import.ts';
import { reconcileCommand } from './commands/reconcile.ts';
import { exportCommand } from './commands/export.ts';
import { demoCommand } from './commands/demo.ts';
import { healthCommand } from './commands/health.ts';
import { migrateCommand } from './commands/migrate.ts';
import { sampleCommand } from './commands/sample.ts';
import { validateCommand } from './commands/validate.ts';
import { watchCommand } from './commands/watch.ts';
import { CliError, EXIT_USAGE } from './errors.ts';

const commands: Record<string, (args: readonly string[]) => Promise<number>> = {
  db: dbCommand,
  migrate: migrateCommand,
  compute: computeCommand,
  validate: validateCommand,
  watch: watchCommand,
  health: healthCommand,
  'sample-ledger': sampleCommand,
  report: reportCommand,
  review: reviewCommand,
  diff: diffCommand,
  'legacy-compare': legacyCompareCommand,
  import: importCommand,
  reconcile: reconcileCommand,
  export: exportCommand,
  demo: demoCommand,
};

const usage = `usage: fifo <command> [options]

commands:
  db start|stop|url|status   the embedded PostgreSQL cluster (ignored when DATABASE_URL is set)
  migrate up|down            apply or revert the schema (down keeps facts unless --drop-facts)
  compute [--all-symbols | --symbol S ...] [--version N] [--force] [--host auto|plv8|client] [--json]
                             recompute allocations (dirty, stale or new symbols; --force: all)
  compute --incremental [--since T]
                             continue each symbol from its snapshot; redo only what changes reached
  watch [--version N]        recompute affected symbols within about a second of each commit
  validate [--version N]     check every invariant; exit 1 and a listing when any fails
  health [--version N] [--max-lag-minutes N] [--skip-invariants] [--json]
                             v_allocation_health plus warnings (lag, dirty/stale symbols, failed run,
                             pending reviews, invariant violations); exit 1 when unhealthy
  report [--version N] [--from D] [--to D] [--by symbol|day|source|trigger] [--format table|csv|json|html] [--out FILE]
                             realized PnL totals and breakdown from the views, by the sell's UTC time
                             (a date --to includes that day); html: one self-contained file with
                             charts (default out/report-vN.html)
  sample-ledger [--trades N] [--symbols M] [--seed S] [--oversell-rate R]
                             append a deterministic random ledger
  review list|show|resolve|ignore [ID] [--note TEXT] [--opening-balance --price P [--time T]]
                             the manual review queue; resolving an unmatched sell can add an opening-balance buy
  diff --from V1 --to V2 [--symbol S ...] [--json]
                             per-symbol and per-sell differences between two allocation versions
  legacy-compare [--version N] [--sort discrepancy|factor] [--json | --format csv]
                             legacy stored PnL of an adopted ledger vs the new allocations, worst first
  import coinbase FILE.csv | import csv FILE.csv --map field=Column,...
                             load exchange fills as facts, one per fill, idempotently (--dry-run)
  reconcile --balances FILE.csv [--dust D] [--as-of T]
                             exchange balances vs open lots; drift is a ledger_drift review item, exit 1
  export lots --year Y [--version N] [--out FILE] [--tz ZONE]
                             Form 8949-shaped CSV of the year's lots, traceable to order ids
  demo [--trades N] [--symbols M] [--seed S] [--days D] [--schema NAME] [--out FILE]
                             the main job in a sandbox recreated on each run (embedded: database
                             fifo_demo; with DATABASE_URL: schema fifo_demo): sample ledger, compute,
                             report, health, review queue, HTML report (default out/demo-report.html)

times (--from, --to, --since, --time): an ISO date or time; without an offset it is UTC, never the
machine's zone; impossible dates (2025-02-30) are refused. --symbol: BASE-QUOTE, any case (sol-usd = SOL-USD).
environment: DATABASE_URL picks the database; FIFO_ALLOCATION_VERSION the default version (1).`;

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
