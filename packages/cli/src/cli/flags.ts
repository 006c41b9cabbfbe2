/**
 * Flag and argument declarations for the CLI spec (spec.ts): each says how it is shown in
 * --help and how its raw text becomes a typed, validated value. Parsing is in parse.ts.
 */
import { CliError } from '../errors.ts';
import { parseDecimal, ValueError } from '../ledger-io/values.ts';
import { allocationVersion, parseTimeFlag, positiveInt, type FlagTime } from '../commands/args.ts';
import { parseSymbols } from '../commands/symbols.ts';

export interface Flag<T> {
  readonly type: 'string' | 'boolean';
  readonly multiple: boolean;
  /** Value name in help and usage (`N`, `FILE`, `auto|plv8|client`); '' for booleans. */
  readonly value: string;
  readonly help: string;
  /** Shown as "(default: ...)" in help. */
  readonly defaultText?: string;
  /** A usage error when absent (shown as a required flag in the usage line). */
  readonly required?: string;
  /** The raw parseArgs value (string, string[], true or undefined) as the typed value. */
  readonly read: (name: string, raw: unknown) => T;
}

export type FlagSet = Readonly<Record<string, Flag<unknown>>>;
export type FlagValues<F extends FlagSet> = { -readonly [K in keyof F]: F[K] extends Flag<infer T> ? T : never };

/** A positional argument (all positionals are required). */
export interface Arg<T> {
  /** Shown in usage (`FILE.csv`, `ID`). */
  readonly name: string;
  /** Named in "missing ..." errors (`FILE`, `review ID`). */
  readonly label: string;
  readonly help: string;
  readonly read: (raw: string) => T;
}

export type ArgSet = Readonly<Record<string, Arg<unknown>>>;
export type ArgValues<A extends ArgSet> = { -readonly [K in keyof A]: A[K] extends Arg<infer T> ? T : never };

export type Parser<T> = (name: string, raw: string) => T;

interface OptionBase {
  value: string;
  help: string;
}

/** A string-valued flag; `default` (raw text, validated too), `required` or `absent` decide the value when missing. */
export function option<T>(o: OptionBase & { parse: Parser<T>; default: string }): Flag<T>;
export function option<T>(o: OptionBase & { parse: Parser<T>; required: string }): Flag<T>;
export function option<T>(o: OptionBase & { parse: Parser<T>; absent: () => T; defaultText: string }): Flag<T>;
export function option<T>(o: OptionBase & { parse: Parser<T>; defaultText?: string }): Flag<T | undefined>;
export function option<T>(o: OptionBase & { parse: Parser<T>; default?: string; required?: string; absent?: () => T; defaultText?: string }): Flag<T | undefined> {
  return {
    type: 'string',
    multiple: false,
    value: o.value,
    help: o.help,
    defaultText: o.defaultText ?? o.default,
    required: o.required,
    read: (name, raw) => {
      if (typeof raw === 'string') return o.parse(name, raw);
      if (o.default !== undefined) return o.parse(name, o.default);
      if (o.required !== undefined) throw new CliError(o.required);
      return o.absent ? o.absent() : undefined;
    },
  };
}

/** A repeatable string flag: every value, in order, each checked by `parse`. */
export function repeatable<T>(o: OptionBase & { parse?: Parser<T> }): Flag<T[] | undefined>;
export function repeatable(o: OptionBase & { parse?: Parser<string> }): Flag<string[] | undefined> {
  return {
    type: 'string', multiple: true, value: o.value, help: o.help,
    read: (name, raw) => (Array.isArray(raw) ? raw.map((r: string) => (o.parse ? o.parse(name, r) : r)) : undefined),
  };
}

export function bool(help: string): Flag<boolean> {
  return { type: 'boolean', multiple: false, value: '', help, read: (_name, raw) => raw === true };
}

const text: Parser<string> = (_name, raw) => raw;

export function str(o: OptionBase & { default: string }): Flag<string>;
export function str(o: OptionBase & { required: string }): Flag<string>;
export function str(o: OptionBase & { defaultText?: string }): Flag<string | undefined>;
export function str(o: OptionBase & { default?: string; required?: string; defaultText?: string }): Flag<string | undefined> {
  return option({ ...o, parse: text } as OptionBase & { parse: Parser<string> });
}

// ---- validators ---------------------------------------------------------------------------

export const positiveInteger: Parser<number> = (name, raw) => positiveInt(name, raw);

export function atMost(max: number): Parser<number> {
  return (name, raw) => {
    const n = positiveInt(name, raw);
    if (n > max) throw new CliError(`${name} must be at most ${max}, got ${n}`);
    return n;
  };
}

/** A positive integer flag such as --limit N; `default` as text. */
export function int(help: string, o: { value?: string; max?: number; required: string }): Flag<number>;
export function int(help: string, o?: { default?: string; value?: string; max?: number }): Flag<number | undefined>;
export function int(help: string, o: { default?: string; value?: string; max?: number; required?: string } = {}): Flag<number | undefined> {
  const parse = o.max === undefined ? positiveInteger : atMost(o.max);
  return option({ value: o.value ?? 'N', help, parse, default: o.default, required: o.required } as OptionBase & { parse: Parser<number> });
}

/** int() with a default: never undefined. */
export function intDefault(help: string, def: string, o: { value?: string; max?: number } = {}): Flag<number> {
  return int(help, { ...o, default: def }) as Flag<number>;
}

export function wholeMinutes(name: string, raw: string): number {
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
    throw new CliError(`${name} must be a whole number of minutes (0 or more), got ${JSON.stringify(raw)}`);
  }
  return Number(raw);
}

/** --version N: the allocation version; absent, FIFO_ALLOCATION_VERSION, else 1 (docs/CONTRACT.md §9). */
export function allocationVersionFlag(help = 'allocation version'): Flag<number> {
  return option({
    value: 'N', help, parse: (_name, raw) => allocationVersion(raw),
    absent: () => allocationVersion(undefined), defaultText: '$FIFO_ALLOCATION_VERSION, else 1',
  });
}

/** A time flag (one parser for all: ISO date or time, UTC without an offset). */
export function time(help: string, value = 'T'): Flag<FlagTime | undefined> {
  return option({ value, help, parse: parseTimeFlag });
}

/** --symbol S ...: repeatable, comma-separated lists too, canonical (sol-usd = SOL-USD); null when none. */
export function symbols(help = 'only this symbol: BASE-QUOTE, any case, or a comma-separated list'): Flag<string[] | null> {
  return {
    type: 'string', multiple: true, value: 'S', help,
    read: (_name, raw) => parseSymbols(Array.isArray(raw) ? raw : undefined),
  };
}

function orList(values: readonly string[]): string {
  return values.length <= 1 ? values.join('') : `${values.slice(0, -1).join(', ')} or ${values.at(-1)}`;
}

/**
 * One of fixed words. The error lists them ("must be a, b or c"; `style: 'one of'` keeps the
 * report's "must be one of a, b, c" wording).
 */
export function oneOf<const V extends string>(values: readonly V[], help: string, o: { default: V; style?: 'one of'; usage?: () => string }): Flag<V>;
export function oneOf<const V extends string>(values: readonly V[], help: string, o?: { style?: 'one of'; usage?: () => string }): Flag<V | undefined>;
export function oneOf<const V extends string>(values: readonly V[], help: string, o: { default?: V; style?: 'one of'; usage?: () => string } = {}): Flag<V | undefined> {
  const parse: Parser<V> = (name, raw) => {
    if ((values as readonly string[]).includes(raw)) return raw as V;
    const list = o.style === 'one of' ? `one of ${values.join(', ')}` : orList(values);
    throw new CliError(`${name} must be ${list}, got ${JSON.stringify(raw)}${o.usage ? `\n${o.usage()}` : ''}`);
  };
  return option({ value: values.join('|'), help, parse, default: o.default } as OptionBase & { parse: Parser<V> });
}

/** A decimal (money, sizes): exact text, never a float. */
export function decimal(allowZero = false): Parser<string> {
  return (name, raw) => {
    try {
      return parseDecimal(raw, { allowZero });
    } catch (e) {
      if (e instanceof ValueError) throw new CliError(`${name} ${e.message}`);
      throw e;
    }
  };
}

/** A schema name as --schema takes it (a plain lower-case identifier). */
export function schemaName(name: string, raw: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(raw)) throw new CliError(`${name} must be a plain lower-case identifier, got ${JSON.stringify(raw)}`);
  return raw;
}

/** A file to write: a non-empty name. */
export function outFile(name: string, raw: string): string {
  if (raw.trim() === '') throw new CliError(`${name} must name a file`);
  return raw;
}

export function rate(name: string, raw: string): number {
  const r = Number(raw);
  if (!/^(0(\.\d+)?|1(\.0+)?)$/.test(raw) || !(r >= 0 && r <= 1)) {
    throw new CliError(`${name} must be a number between 0 and 1, got ${JSON.stringify(raw)}`);
  }
  return r;
}

// ---- positionals --------------------------------------------------------------------------

export function arg(name: string, help: string, label = name): Arg<string> {
  return { name, label, help, read: (raw) => raw };
}

export function idArg(name: string, help: string, label: string): Arg<string> {
  return { name, label, help, read: (raw) => String(positiveInt(label, raw)) };
}
