import { CliError } from '../errors.ts';

/** `fifo export` (issue 6): not built yet. */
export async function exportCommand(_args: readonly string[]): Promise<number> {
  throw new CliError('fifo export is not available yet');
}
