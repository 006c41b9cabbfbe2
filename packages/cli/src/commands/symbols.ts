import { CliError } from '../errors.ts';

/** The ledger's symbol rule (trade_records_symbol_must_be_base_dash_quote). */
const SYMBOL = /^[A-Za-z0-9._]{1,32}-[A-Za-z0-9._]{1,32}$/;

export function parseSymbols(raw: readonly string[] | undefined): string[] | null {
  if (!raw || raw.length === 0) return null;
  const out = new Set<string>();
  for (const entry of raw) {
    for (const s of entry.split(',')) {
      if (!SYMBOL.test(s)) throw new CliError(`--symbol ${JSON.stringify(s)}: not a symbol of the form BASE-QUOTE (e.g. SOL-USD)`);
      out.add(s);
    }
  }
  return [...out];
}
