import { CliError } from '../errors.ts';
import { parseSymbol, ValueError } from '../ledger-io/values.ts';

/**
 * One `--symbol` value in the ledger's canonical form: the same function import uses
 * (upper case, `SOL/USD` as `SOL-USD`), so `sol-usd` on the command line means SOL-USD.
 */
export function canonicalSymbol(raw: string, flag = '--symbol'): string {
  try {
    return parseSymbol(raw);
  } catch (e) {
    if (e instanceof ValueError) throw new CliError(`${flag} ${JSON.stringify(raw)}: not a symbol of the form BASE-QUOTE (e.g. SOL-USD)`);
    throw e;
  }
}

/** `--symbol S` flags (each may list several, comma-separated), canonical and deduplicated; null when none. */
export function parseSymbols(raw: readonly string[] | undefined): string[] | null {
  if (!raw || raw.length === 0) return null;
  const out = new Set<string>();
  for (const entry of raw) {
    for (const s of entry.split(',')) out.add(canonicalSymbol(s));
  }
  return [...out];
}
