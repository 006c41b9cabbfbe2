/**
 * The `fifo` CLI, declared once: every command, action, positional and flag with its help
 * and validator. `fifo --help`, `fifo CMD --help`, usage lines and parsing (parse.ts) all
 * come from here; commands receive typed, validated values. Adding a flag: declare it here,
 * then use `values['the-flag']` in the command.
 *
 * This module is loaded on every start (before any command), so it imports validators
 * only: nothing that loads pg or a command.
 */
import { CliError } from '../errors.ts';
import { parseAsset, parseId, ValueError } from '../ledger-io/values.ts';
import { canonicalSymbol } from '../commands/symbols.ts';
import {
  allocationVersionFlag, arg, bool, decimal, idArg, int, intDefault, oneOf, option, outFile, rate, repeatable,
  schemaName, str, symbols, time, wholeMinutes, type Arg, type ArgSet, type Flag, type ArgValues, type FlagSet, type FlagValues,
} from './flags.ts';
import { usageOf } from './help.ts';
import { IMPORT_FORMATS } from '../ledger-io/formats.ts';
import { mailAddress, mailAddresses, mailSubject } from '../report/mail-address.ts';

export interface Leaf {
  /** One line: the second column of `fifo --help` and the head of `fifo CMD --help`. */
  readonly summary: string;
  readonly flags?: FlagSet;
  readonly args?: ArgSet;
  /** More lines for `fifo CMD --help`. */
  readonly notes?: readonly string[];
}

export interface CommandSpec extends Leaf {
  /** Sub-actions (`db start`, `review list`): the first positional; flags above are common to all. */
  readonly actions?: Readonly<Record<string, Leaf>>;
  /** What the action is called in errors: "unknown direction "sideways"". */
  readonly actionNoun?: string;
  /** Replaces the default "missing/unknown <noun>" message. */
  readonly actionError?: (raw: string | undefined, choices: string) => string;
}

function command<const C extends CommandSpec>(c: C): C {
  return c;
}

export const HOSTS = ['auto', 'plv8', 'client'] as const;
export const REPORT_GROUPS = ['symbol', 'day', 'source', 'trigger', 'account'] as const;
export const REPORT_FORMATS = ['table', 'csv', 'json', 'html', 'eml'] as const;
export const REVIEW_STATUSES = ['pending', 'resolved', 'ignored', 'all'] as const;
export const DEFAULT_MAX_LAG_MINUTES = 10;

const hostChoice = oneOf(HOSTS, '');
/** --host; absent, FIFO_HOST (so a whole test suite or a service can choose), else auto. */
const host = option({
  value: HOSTS.join('|'),
  help: 'where the procedures run: in the database (plv8), in this process (client), or plv8 when installed',
  parse: (name, raw) => hostChoice.read(name, raw) as (typeof HOSTS)[number],
  absent: () => (process.env.FIFO_HOST ? hostChoice.read('FIFO_HOST', process.env.FIFO_HOST) as (typeof HOSTS)[number] : 'auto'),
  defaultText: '$FIFO_HOST, else auto',
});
const json = bool('print JSON');

/** Filters accept the ledger's symbols and the `ASSET-*` symbols of balance-drift items. */
function reviewSymbols(raw: string): string[] {
  return raw.split(',').map((s) => s.trim()).filter((s) => s !== '').map((s) => {
    if (!s.endsWith('-*')) return canonicalSymbol(s);
    try {
      return `${parseAsset(s.slice(0, -2))}-*`;
    } catch {
      throw new CliError(`--symbol ${JSON.stringify(s)}: not a symbol of the form BASE-QUOTE (e.g. SOL-USD) or ASSET-*`);
    }
  });
}

const reviewSymbolFilter: Flag<string[] | null> = {
  type: 'string', multiple: true, value: 'S', help: 'only this symbol, or ASSET-* for balance drift; or a comma-separated list',
  read: (_name, raw) => (Array.isArray(raw) && raw.length > 0 ? raw.flatMap((r: string) => reviewSymbols(r)) : null),
};

const NOTE_REQUIRED = '--note TEXT is required: say why (it is kept with the item, with who closed it)';
const note = option({
  value: 'TEXT', help: 'why (kept with the item, with who closed it)', required: NOTE_REQUIRED,
  parse: (name, raw) => {
    if (raw.trim() === '') throw new CliError(NOTE_REQUIRED);
    if (raw.length > 2000) throw new CliError(`${name} is longer than 2000 characters`);
    return raw.trim();
  },
});
const reviewId = { id: idArg('ID', 'the review item (fifo review list shows them)', 'review ID') };

/** An account name (issue 14): the ledger's rules for names (as order ids); an unknown one is fine. */
const accountName = (name: string, raw: string): string => {
  try {
    const v = parseId(raw);
    if (v !== raw) throw new ValueError('has a space at either end');
    return v;
  } catch (e) {
    if (e instanceof ValueError) throw new CliError(`${name} ${JSON.stringify(raw)}: not an account name (${e.message})`);
    throw e;
  }
};

const importCommon = {
  utc: bool('read times without an offset as UTC (else they are refused)'),
  source: option({
    value: 'TAG', help: 'the source tag of the new facts (default: coinbase-import or csv-import)',
    parse: (name, raw) => {
      if (raw.trim() === '' || raw.length > 100) throw new CliError(`${name} must be a non-blank tag of at most 100 characters`);
      return raw;
    },
  }),
  'dry-run': bool('say what would change; write nothing'),
  json,
};

/** `fifo import <format>`: one action per entry of the import-format registry. */
type ImportAction = { summary: string; args: { file: Arg<string> }; flags: { map: Flag<string[] | undefined>; account: Flag<string> } };
const importAccount = option({ value: 'NAME', help: 'the account (exchange, sub-account, wallet) of the fills', parse: accountName, default: 'default' });
const importActions = Object.fromEntries(Object.entries(IMPORT_FORMATS).map(([name, f]) => [name, {
  summary: `a ${f.label} fills file${f.userMap ? ', its columns named by --map' : ''}`,
  args: { file: arg('FILE.csv', 'the fills', 'FILE') },
  flags: f.userMap ? {
    map: {
      ...repeatable({ value: 'field=COL,...', help: 'the column of each field: order_id, symbol, side, size, price, time[, fee][, trade_id]' }),
      required: `fifo import ${name} needs --map`,
    },
    account: importAccount,
  } : { account: importAccount },
}])) as Record<string, ImportAction>;

export const COMMANDS = {
  db: command({
    summary: 'the embedded PostgreSQL cluster (ignored when DATABASE_URL is set)',
    actions: {
      start: { summary: 'initdb on first use, then start it; prints the URL' },
      stop: { summary: 'stop it' },
      url: { summary: 'print the URL commands use (DATABASE_URL when set)' },
      status: { summary: 'data directory, binaries, running or not (exit 1 when not running)' },
    },
  }),
  migrate: command({
    summary: 'apply or revert the schema (down keeps facts unless --drop-facts)',
    actionNoun: 'direction',
    flags: {
      count: int('migrations to apply or revert (default: all pending / all applied)'),
      schema: option({
        value: 'NAME', help: "the schema (default: the connection's current schema, the first of its search_path)", parse: schemaName,
      }),
    },
    actions: {
      up: { summary: 'apply pending migrations, then install the procedures and re-apply the grants' },
      down: { summary: 'revert migrations', flags: { 'drop-facts': bool('also drop a non-empty trade_records and its audit trail') } },
    },
  }),
  'install-procedures': command({
    summary: 'install or refresh the PLV8 procedures and re-apply the grants',
    flags: {
      schema: option({ value: 'NAME', help: "the schema (default: the connection's current schema)", parse: schemaName }),
      force: bool('re-create the procedures even when the installed bundle is current'),
    },
    notes: ['without PLV8 nothing is installed: the procedures run in the Node host (fifo compute --host client)'],
  }),
  compute: command({
    summary: 'recompute allocations (dirty, stale or new symbols; --force: all; --incremental: from snapshots)',
    flags: {
      'all-symbols': bool('every symbol in the ledger'),
      symbol: symbols(),
      version: allocationVersionFlag(),
      force: bool('recompute from scratch, changed or not'),
      incremental: bool('continue each symbol from its snapshot; redo only what changes reached'),
      since: time('with --incremental: also symbols with trades at or after T'),
      host,
      'batch-trades': int('trades per batch of symbols (default: 25000)'),
      concurrency: intDefault('batches at once, each on its own connection, at most 32', '1', { value: 'K', max: 32 }),
      json,
    },
  }),
  watch: command({
    summary: 'recompute affected symbols within about a second of each commit (LISTEN fifo_ledger)',
    flags: {
      version: allocationVersionFlag(),
      host,
      'debounce-ms': intDefault('wait this long after a notification for more', '200', { value: 'MS' }),
      'long-held-every-ms': intDefault('judge every symbol\'s long_held_lot items this often (and at start)', '600000', { value: 'MS' }),
    },
    notes: ['stops after the current run on SIGINT or SIGTERM'],
  }),
  validate: command({
    summary: 'check every invariant; exit 1 and a listing when any fails',
    flags: { version: allocationVersionFlag(), host, limit: intDefault('violations listed', '100'), json },
  }),
  health: command({
    summary: 'v_allocation_health plus warnings; exit 1 when unhealthy (for cron and monitoring)',
    flags: {
      version: allocationVersionFlag(),
      'max-lag-minutes': option({
        value: 'N', help: 'changes older than this not yet computed are a warning', parse: wholeMinutes, default: String(DEFAULT_MAX_LAG_MINUTES),
      }),
      'skip-invariants': bool('skip counting v_allocation_discrepancies (a full pass; slow on huge ledgers)'),
      json,
    },
    notes: ['warnings: lag, dirty or stale symbols, a failed run, pending reviews, invariant violations'],
  }),
  'sample-ledger': command({
    summary: 'append a deterministic random ledger (demos, tests, benchmarks)',
    flags: {
      trades: intDefault('fills to generate', '10000'),
      symbols: intDefault('symbols (at most --trades)', '30', { value: 'M' }),
      seed: intDefault('random seed', '42', { value: 'S' }),
      'oversell-rate': option({ value: 'R', help: 'share of sells larger than the open lots (0 to 1)', parse: rate, default: '0' }),
    },
  }),
  report: command({
    summary: 'realized PnL, trading and risk metrics, open positions and FIFO health (table, csv, json, html, mail)',
    flags: {
      version: allocationVersionFlag(),
      from: time('sells at or after D', 'D'),
      to: time('sells before D (a date includes that day)', 'D'),
      by: oneOf(REPORT_GROUPS, 'the breakdown', { default: 'symbol', style: 'one of', usage: () => usageOf('report') }),
      format: oneOf(REPORT_FORMATS, 'html: one self-contained file with charts; eml: it as a mail', { default: 'table', style: 'one of', usage: () => usageOf('report') }),
      out: option({ value: 'FILE', help: 'write here (html default: out/report-vN.html)', parse: outFile }),
      'unmatched-limit': intDefault('unmatched sells listed', '20'),
      tz: str({ value: 'ZONE', help: 'the time zone of days (daily PnL, Sharpe, drawdown, date bounds)', default: 'UTC' }),
      account: option({ value: 'NAME', help: "only this account's sells (default: every account)", parse: accountName }),
      'mail-to': repeatable({ value: 'ADDR', help: 'eml: a recipient (To:); repeat or comma-separate', parse: mailAddresses }),
      'mail-from': option({ value: 'ADDR', help: 'eml: the sender (From:)', parse: mailAddress, defaultText: 'fifo-ledger@<host name>' }),
      subject: option({ value: 'TEXT', help: 'eml: the subject', parse: mailSubject, defaultText: 'FIFO daily report <date> (version N)' }),
    },
    notes: ['eml: a complete MIME message (text and HTML alternatives) for `sendmail -t`; --mail-to is required'],
  }),
  review: command({
    summary: 'the manual review queue; resolving an unmatched sell can add an opening-balance buy',
    actionNoun: 'subcommand',
    flags: { json },
    actions: {
      list: {
        summary: 'the queue, newest first',
        flags: {
          status: oneOf(REVIEW_STATUSES, 'which items', { default: 'pending' }),
          type: option({
            value: 'T', help: 'only this issue type (unmatched_sell, ledger_drift, ...)',
            parse: (name, raw) => {
              if (!/^[a-z][a-z0-9_]{0,62}$/.test(raw)) throw new CliError(`${name} ${JSON.stringify(raw)}: an issue type such as unmatched_sell or ledger_drift`);
              return raw;
            },
          }),
          symbol: reviewSymbolFilter,
          version: allocationVersionFlag(),
          limit: intDefault('items listed', '200'),
        },
      },
      show: { summary: 'one item with its sell and allocations', args: reviewId },
      resolve: {
        summary: 'close an item as resolved; --opening-balance adds the missing inventory as a buy and recomputes',
        args: reviewId,
        flags: {
          note,
          'opening-balance': bool('add an opening-balance buy for the unmatched size (needs --price)'),
          price: option({ value: 'P', help: 'with --opening-balance: the cost per unit you vouch for', parse: decimal() }),
          time: time('with --opening-balance: when the lot was opened (default: just before the sell)'),
          yes: bool('with --opening-balance: write it even though it re-matches other sells of the symbol'),
          'dry-run': bool('with --opening-balance: say which sells and how much PnL it would move; write nothing'),
        },
      },
      ignore: { summary: 'close an item as ignored', args: reviewId, flags: { note } },
    },
  }),
  diff: command({
    summary: 'per-symbol and per-sell differences between two allocation versions',
    flags: {
      from: int('the version to compare from', { value: 'V1', required: '--from V1 and --to V2 are required' }),
      to: int('the version to compare to', { value: 'V2', required: '--from V1 and --to V2 are required' }),
      symbol: symbols(),
      limit: intDefault('sells listed', '50'),
      json,
    },
  }),
  'legacy-compare': command({
    summary: 'legacy stored PnL of an adopted ledger vs the new allocations, worst first',
    flags: {
      version: allocationVersionFlag(),
      symbol: symbols(),
      sort: oneOf(['discrepancy', 'factor', 'age'], 'worst first by (age: the gap between the legacy parent\'s age and the new match\'s)', { default: 'discrepancy' }),
      limit: int('rows listed (default: 25 in a table, all in csv and json)'),
      all: bool('include the sells that agree'),
      json,
      format: oneOf(['table', 'csv', 'json'], 'output (default: table)'),
    },
  }),
  import: command({
    summary: 'load exchange fills as facts, one per fill, idempotently',
    actionNoun: 'format',
    // the fill formats first, then prices (not a fills format)
    actionError: (raw) => `${raw === undefined ? 'missing format' : `unknown format ${JSON.stringify(raw)}`}: ` +
      `${Object.keys(IMPORT_FORMATS).join(' or ')} (fills), or prices (market prices)`,
    flags: importCommon,
    actions: {
      ...importActions,
      // market prices, not fills: README "Market prices and open positions"
      prices: {
        summary: 'a market prices file (symbol, price_time, price[, source]; --source for rows without one, default csv-import)',
        args: { file: arg('FILE.csv', 'the prices', 'FILE') },
        // no --map: typed like the fill formats' actions, as the coinbase one is
        flags: {} as ImportAction['flags'],
      },
    },
  }),
  reconcile: command({
    summary: 'exchange balances vs open lots; drift is a ledger_drift review item, exit 1',
    flags: {
      balances: str({ value: 'FILE.csv', help: 'the balances (asset, balance[, as_of])', required: '--balances FILE.csv is required' }),
      version: allocationVersionFlag(),
      dust: option({ value: 'D', help: 'differences up to this are equal', parse: decimal(true), default: '0.00000001' }),
      'as-of': str({ value: 'T', help: 'the time of the balances when the file has none' }),
      utc: bool('read times without an offset as UTC'),
      'no-compute': bool('compare even when the symbols changed since they were computed'),
      account: option({ value: 'NAME', help: 'the balances are of this account (per_account versions; or an account column)', parse: accountName }),
      json,
    },
  }),
  export: command({
    summary: 'Form 8949-shaped CSV of the year\'s lots, traceable to order ids',
    actionError: (raw, choices) => `${raw === undefined ? 'missing what to export' : `cannot export ${JSON.stringify(raw)}`}: ${choices}`,
    actions: {
      lots: {
        summary: 'one row per lot of each sell dated in the year',
        flags: {
          year: option({
            value: 'Y', help: 'the tax year', required: '--year Y is required (the tax year: sells dated in it)',
            parse: (name, raw) => {
              if (!/^\d{4}$/.test(raw) || Number(raw) < 1970) throw new CliError(`${name} must be a four-digit year such as 2025, got ${JSON.stringify(raw)}`);
              return Number(raw);
            },
          }),
          version: allocationVersionFlag(),
          out: option({ value: 'FILE', help: 'write here (default: stdout)', parse: outFile }),
          tz: str({ value: 'ZONE', help: 'the zone of dates and of the year', default: 'UTC' }),
          account: option({ value: 'NAME', help: "only this account's sells (default: every account)", parse: accountName }),
          'allow-stale': bool('export even when the version is behind the ledger'),
        },
      },
    },
  }),
  versions: command({
    summary: 'allocation versions: list them, or add one (a method and a pooling of lots)',
    actions: {
      list: { summary: 'every version with its method, pooling and rows', flags: { json } },
      add: {
        summary: 'a new version, computed by the next fifo compute --version N (it starts with every symbol dirty)',
        flags: {
          method: oneOf(['fifo', 'lifo', 'hifo'], 'which lot a sell takes first', { default: 'fifo' }),
          pooling: oneOf(['universal', 'per_account'], 'one pool of lots per symbol, or one per account (transfers move lots)', { default: 'universal' }),
          number: int('the version number (default: the next free one)', { value: 'N' }),
          description: str({ value: 'TEXT', help: 'what it is for' }),
          json,
        },
      },
    },
  }),
  demo: command({
    summary: 'the main job in a sandbox recreated on each run: sample ledger, compute, report, health, reviews',
    flags: {
      trades: intDefault('fills', '20000'),
      symbols: intDefault('symbols', '30', { value: 'M' }),
      seed: intDefault('random seed', '7', { value: 'S' }),
      days: intDefault('days the fills span', '45', { value: 'D' }),
      schema: str({ value: 'NAME', help: 'with DATABASE_URL: the sandbox schema', defaultText: 'fifo_demo' }),
      out: option({ value: 'FILE', help: 'the HTML report', parse: outFile, defaultText: 'out/demo-report.html' }),
    },
    notes: ['embedded: database fifo_demo; with DATABASE_URL: schema fifo_demo (or --schema) of that database'],
  }),
} as const satisfies Record<string, CommandSpec>;

export type Commands = typeof COMMANDS;
export type CommandName = keyof Commands;

/** Notes at the end of `fifo --help`. */
export const GLOBAL_NOTES = [
  'times (--from, --to, --since, --time): an ISO date or time; without an offset it is UTC, never the',
  "machine's zone; impossible dates (2025-02-30) are refused. --symbol: BASE-QUOTE, any case (sol-usd = SOL-USD).",
  'environment: DATABASE_URL picks the database; FIFO_ALLOCATION_VERSION the default version (1).',
];

type FlagsOf<L> = L extends { readonly flags: infer F extends FlagSet } ? F : Record<never, never>;
type ArgsOf<L> = L extends { readonly args: infer A extends ArgSet } ? A : Record<never, never>;

/** What a command receives: typed values of its flags and positionals (and its action). */
export type Parsed<C> = C extends { readonly actions: infer A }
  ? { [K in keyof A & string]: { action: K; values: FlagValues<FlagsOf<C> & FlagsOf<A[K]>>; args: ArgValues<ArgsOf<A[K]>> } }[keyof A & string]
  : { action: undefined; values: FlagValues<FlagsOf<C>>; args: ArgValues<ArgsOf<C>> };

export type ParsedCommand<N extends CommandName> = Parsed<Commands[N]>;
