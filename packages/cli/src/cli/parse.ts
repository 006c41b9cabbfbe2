/** Parses a command's arguments against its spec (spec.ts) into typed, validated values. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CliError } from '../errors.ts';
import type { ArgSet, FlagSet } from './flags.ts';
import { usageOf } from './help.ts';
import { COMMANDS, type CommandName, type CommandSpec, type ParsedCommand } from './spec.ts';

/** `--help` or `-h` was given: the caller prints the help of `command` (and `action`). */
export class HelpRequested extends Error {
  constructor(readonly command: CommandName, readonly action: string | undefined) {
    super(`help for ${command}`);
  }
}

export function isCommand(name: string): name is CommandName {
  return Object.hasOwn(COMMANDS, name);
}

function orList(words: readonly string[]): string {
  return words.length <= 1 ? words.join('') : `${words.slice(0, -1).join(', ')} or ${words.at(-1)}`;
}

/** Levenshtein distance ≤ 2: a likely typo. */
function near(a: string, b: string): boolean {
  if (Math.abs(a.length - b.length) > 2) return false;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]! <= 2;
}

/** Every flag the command knows, whichever action declares it (actions may share a name). */
function allFlags(spec: CommandSpec): FlagSet {
  const out: Record<string, FlagSet[string]> = { ...spec.flags };
  for (const a of Object.values(spec.actions ?? {})) Object.assign(out, a.flags);
  return out;
}

function parseError(e: unknown, cmd: string, known: readonly string[], usage: string): never {
  const err = e as NodeJS.ErrnoException;
  if (!(err instanceof TypeError) || !err.code?.startsWith('ERR_PARSE_ARGS')) throw e;
  const unknown = /^Unknown option '([^']*)'/.exec(err.message);
  if (unknown) {
    const opt = unknown[1]!;
    const guess = known.find((k) => near(opt.replace(/^-+/, '').split('=')[0]!, k));
    throw new CliError(`Unknown option '${opt}' for fifo ${cmd}${guess ? ` (did you mean --${guess}?)` : ''}\n${usage}`);
  }
  const missing = /^Option '(-\w, )?(--[\w-]+) <value>' argument missing/.exec(err.message);
  if (missing) throw new CliError(`${missing[2]} needs a value\n${usage}`);
  throw new CliError(`${err.message}\n${usage}`);
}

/**
 * The typed values of `fifo <name> <args>`. Usage errors (unknown option, missing value,
 * bad value, missing or extra positional, unknown action, a flag of another action) throw
 * CliError (exit 2); `--help`/`-h` throws HelpRequested.
 */
export function parseCommand<N extends CommandName>(name: N, args: readonly string[]): ParsedCommand<N> {
  const spec: CommandSpec = COMMANDS[name];
  const flags = allFlags(spec);
  const options: NonNullable<ParseArgsConfig['options']> = { help: { type: 'boolean', short: 'h' } };
  for (const [k, f] of Object.entries(flags)) options[k] = { type: f.type, multiple: f.multiple };
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (e) {
    parseError(e, name, Object.keys(flags), usageOf(name));
  }
  const { values: raw, positionals } = parsed as { values: Record<string, unknown>; positionals: string[] };

  let action: string | undefined;
  let rest = positionals;
  let leaf: CommandSpec = spec;
  if (spec.actions) {
    const choices = Object.keys(spec.actions);
    [action, ...rest] = positionals;
    if (raw.help) throw new HelpRequested(name, action !== undefined && choices.includes(action) ? action : undefined);
    if (action === undefined || !choices.includes(action)) {
      const noun = spec.actionNoun ?? 'action';
      const list = orList(choices);
      const msg = spec.actionError?.(action, list)
        ?? `${action === undefined ? `missing ${noun}` : `unknown ${noun} ${JSON.stringify(action)}`}: ${list}`;
      throw new CliError(`fifo ${name}: ${msg}\n${usageOf(name)}`);
    }
    leaf = spec.actions[action]!;
  } else if (raw.help) {
    throw new HelpRequested(name, undefined);
  }
  const usage = usageOf(name, action);
  const where = action === undefined ? name : `${name} ${action}`;

  const argSpecs: ArgSet = leaf.args ?? {};
  const argValues: Record<string, unknown> = {};
  const argEntries = Object.entries(argSpecs);
  argEntries.forEach(([k, a], i) => {
    const r = rest[i];
    if (r === undefined) throw new CliError(`missing ${a.label}\n${usage}`);
    argValues[k] = a.read(r);
  });
  if (rest.length > argEntries.length) throw new CliError(`unexpected argument ${JSON.stringify(rest[argEntries.length])}\n${usage}`);

  const applicable: FlagSet = { ...spec.flags, ...(leaf === spec ? {} : leaf.flags) };
  const values: Record<string, unknown> = {};
  for (const k of Object.keys(raw)) {
    if (k === 'help' || k in applicable) continue;
    const owners = Object.entries(spec.actions ?? {}).filter(([, a]) => a.flags && k in a.flags).map(([n]) => `\`fifo ${name} ${n}\``);
    throw new CliError(`--${k} does not apply to \`fifo ${where}\` (only to ${owners.join(' and ')})\n${usage}`);
  }
  for (const [k, f] of Object.entries(applicable)) {
    const flag = `--${k}`;
    if (raw[k] === undefined && f.required !== undefined) throw new CliError(`${f.required}\n${usage}`);
    values[k] = f.read(flag, raw[k]);
  }
  return { action, values, args: argValues } as ParsedCommand<N>;
}
