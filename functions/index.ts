/**
 * The stored procedures: each entry becomes `CREATE FUNCTION <name>(<args>) RETURNS <returns>
 * LANGUAGE plv8` (packages/plv8 builds them) and runs unchanged in the Node PLV8 host.
 * Only what needs the engine is here; a procedure that only queries is SQL in a migration
 * (fifo_validate: 014).
 */
import { compute } from './compute.ts';

export interface ProcedureSpec {
  args: ReadonlyArray<readonly [name: string, sqlType: string]>;
  returns: string;
  volatility: 'VOLATILE' | 'STABLE' | 'IMMUTABLE';
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  fn: (...args: any[]) => unknown;
  strict?: boolean;
  setof?: boolean;
}

export const procedures: Record<string, ProcedureSpec> = {
  fifo_compute: {
    args: [['allocation_version', 'int'], ['symbols', 'text[]'], ['mode', 'text'], ['computation_id', 'bigint']],
    returns: 'jsonb',
    volatility: 'VOLATILE',
    fn: compute,
  },
};
