/**
 * A ProcedureSession that passes calls through and adds up where fifo_compute spends its
 * time: its summary's timings (read, allocate, write) per batch, and the whole call (which
 * also holds the locks, the audit positions, the host round trips and the commit).
 */
import type { ProcedureSession } from '../../../packages/cli/src/compute/procedure-host.ts';

export interface PhaseTimings {
  batches: number;
  callMs: number;
  readMs: number;
  allocateMs: number;
  writeMs: number;
}

export const noTimings = (): PhaseTimings => ({ batches: 0, callMs: 0, readMs: 0, allocateMs: 0, writeMs: 0 });

export function timedSession(inner: ProcedureSession, into: PhaseTimings): ProcedureSession {
  return {
    kind: inner.kind,
    async callInTransaction(name, args) {
      const t0 = performance.now();
      const result = await inner.callInTransaction(name, args);
      into.callMs += performance.now() - t0;
      const t = (result as { timings?: Partial<PhaseTimings> } | null)?.timings;
      if (name === 'fifo_compute' && t) {
        into.batches += 1;
        into.readMs += Number(t.readMs ?? 0);
        into.allocateMs += Number(t.allocateMs ?? 0);
        into.writeMs += Number(t.writeMs ?? 0);
      }
      return result;
    },
    close: () => inner.close(),
  };
}
