import { describe, expect, it } from 'vitest';
import { callFifoCompute, checkComputeResult } from '../src/compute/procedure-calls.ts';
import type { ProcedureSession } from '../src/compute/procedure-host.ts';
import { loadGeneratedProcedures } from '@fifo-ledger/plv8/procedures';

/** A session that records what it was asked and answers `result`. */
function recording(result: unknown): ProcedureSession & { asked: Array<[string, unknown[]]> } {
  const asked: Array<[string, unknown[]]> = [];
  return { kind: 'client', asked, callInTransaction: async (name, args) => (asked.push([name, args]), result), close: async () => {} };
}

describe('the typed procedure calls', () => {
  it('lay fifo_compute\'s arguments out in the order the generated bundle declares', async () => {
    const s = recording({ symbols: [] });
    await callFifoCompute(s, { computation_id: '7', mode: 'incremental', symbols: ['A-USD'], allocation_version: 3 });
    const declared = loadGeneratedProcedures().find((p) => p.name === 'fifo_compute')!.args.map(([n]) => n);
    const byName: Record<string, unknown> = { allocation_version: 3, symbols: ['A-USD'], mode: 'incremental', computation_id: '7' };
    expect(s.asked).toEqual([['fifo_compute', declared.map((n) => byName[n])]]);
  });

  it('refuse a result whose shape drifted, naming the procedure', async () => {
    await expect(callFifoCompute(recording({ rows: [] }), { allocation_version: 1, symbols: [], mode: 'full', computation_id: '1' }))
      .rejects.toThrow(/fifo_compute returned no symbols array/);
    expect(() => checkComputeResult({ symbols: [{ symbol: 'A', status: 'done', trades: 1, allocations: 0, unmatched: 0 }] }))
      .toThrow(/malformed symbol outcome/);
    expect(() => checkComputeResult({ symbols: [{ symbol: 'A', status: 'ok', trades: '1', allocations: 0, unmatched: 0 }] }))
      .toThrow(/malformed/);
    expect(checkComputeResult({ symbols: [{ symbol: 'A', status: 'failed', trades: 2, allocations: 0, unmatched: 0, error: 'x' }] }).symbols)
      .toHaveLength(1);
  });
});
