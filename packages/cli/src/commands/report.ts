import { CliError } from '../errors.ts';

/** `fifo report` (issue 6): not built yet. */
export async function reportCommand(_args: readonly string[]): Promise<number> {
  throw new CliError('fifo report is not available yet');
}
