import { CliError } from '../errors.ts';

/** `fifo review` (issue 6): not built yet. */
export async function reviewCommand(_args: readonly string[]): Promise<number> {
  throw new CliError('fifo review is not available yet');
}
