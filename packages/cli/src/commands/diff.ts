import { CliError } from '../errors.ts';

/** `fifo diff` (issue 6): not built yet. */
export async function diffCommand(_args: readonly string[]): Promise<number> {
  throw new CliError('fifo diff is not available yet');
}
