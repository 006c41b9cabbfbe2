/**
 * Where the CLI turns a library DomainError into a CliError (exit 2): the command says which
 * flag each code came from, and the message becomes `<flag> <subject>: <message>` as before.
 */
import { DomainError, type DomainCode } from '../domain-error.ts';
import { CliError } from '../errors.ts';

export type FlagMap = Partial<Record<DomainCode, string>>;

export function toCliError(e: unknown, flags: FlagMap = {}): unknown {
  if (!(e instanceof DomainError)) return e;
  const flag = flags[e.code];
  const about = e.subject ? `${e.subject}${e.separator}${e.message}` : e.message;
  return new CliError(flag === undefined ? about : `${flag} ${about}`);
}

/** Awaits `p`, rethrowing a DomainError as the CliError naming its flag. */
export async function onFlags<T>(p: Promise<T>, flags: FlagMap = {}): Promise<T> {
  try {
    return await p;
  } catch (e) {
    throw toCliError(e, flags);
  }
}

/** The same for synchronous library calls. */
export function onFlagsSync<T>(f: () => T, flags: FlagMap = {}): T {
  try {
    return f();
  } catch (e) {
    throw toCliError(e, flags);
  }
}
