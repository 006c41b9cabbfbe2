import { CliError } from '../errors.ts';

/** `fifo reconcile` (issue 6): not built yet. */
export async function reconcileCommand(_args: readonly string[]): Promise<number> {
  throw new CliError('fifo reconcile is not available yet');
}
