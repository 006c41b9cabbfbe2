import { CliError } from '../errors.ts';

/** `fifo legacy-compare` (issue 6): not built yet. */
export async function legacyCompareCommand(_args: readonly string[]): Promise<number> {
  throw new CliError('fifo legacy-compare is not available yet');
}
