import { CliError } from '../errors.ts';

/** `fifo import` (issue 6): not built yet. */
export async function importCommand(_args: readonly string[]): Promise<number> {
  throw new CliError('fifo import is not available yet');
}
