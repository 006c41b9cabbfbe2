/**
 * The typed calls of the stored procedures, the one place that knows their arguments and what
 * they return. Both hosts go through here: the arguments are laid out in the order the
 * generated procedure declares (packages/plv8/generated/procedures.json, built from
 * functions/index.ts), and the result is checked before anyone reads it, so a bundle that
 * drifted from the runner fails here with the procedure's name, not later as `undefined`.
 */
import type { ComputeSummary, SymbolOutcome } from '@fifo-ledger/functions/compute';
import { loadGeneratedProcedures } from '@fifo-ledger/plv8/procedures';
import type { ProcedureSession } from './procedure-host.ts';

export interface FifoComputeArgs {
  allocation_version: number;
  symbols: string[];
  mode: 'full' | 'incremental' | 'rebuild';
  computation_id: string;
}

/** What the runner reads of fifo_compute's jsonb result. */
export type FifoComputeResult = Pick<ComputeSummary, 'symbols'>;

let declared: Map<string, string[]> | undefined;

/** The argument names of each procedure, in order, as the bundle declares them. */
function argumentOrder(name: string): string[] {
  declared ??= new Map(loadGeneratedProcedures().map((p) => [p.name, p.args.map(([n]) => n)]));
  const order = declared.get(name);
  if (!order) throw new Error(`procedure ${name} is not in the generated bundle (pnpm build:plv8)`);
  return order;
}

function positional<A extends object>(name: string, args: A): unknown[] {
  const order = argumentOrder(name);
  const given = Object.keys(args);
  const unknown = given.filter((k) => !order.includes(k));
  const missing = order.filter((k) => !given.includes(k));
  if (unknown.length > 0 || missing.length > 0) {
    throw new Error(`${name}: the bundle declares (${order.join(', ')}); the call gives (${given.join(', ')})`);
  }
  return order.map((k) => (args as Record<string, unknown>)[k]);
}

const OUTCOME_STATUSES = new Set<SymbolOutcome['status']>(['ok', 'failed']);

function isOutcome(o: unknown): o is SymbolOutcome {
  if (typeof o !== 'object' || o === null) return false;
  const x = o as Record<string, unknown>;
  return typeof x.symbol === 'string' && OUTCOME_STATUSES.has(x.status as SymbolOutcome['status']) &&
    typeof x.trades === 'number' && typeof x.allocations === 'number' && typeof x.unmatched === 'number' &&
    (x.error === undefined || typeof x.error === 'string');
}

export function checkComputeResult(raw: unknown): FifoComputeResult {
  const symbols = (raw as { symbols?: unknown } | null)?.symbols;
  if (!Array.isArray(symbols)) throw new Error(`fifo_compute returned no symbols array: ${JSON.stringify(raw)?.slice(0, 200)}`);
  const bad = symbols.find((s) => !isOutcome(s));
  if (bad !== undefined) throw new Error(`fifo_compute returned a malformed symbol outcome: ${JSON.stringify(bad)?.slice(0, 200)}`);
  return { symbols: symbols as SymbolOutcome[] };
}

/** One batch of symbols in one transaction, in either host. */
export async function callFifoCompute(session: ProcedureSession, args: FifoComputeArgs): Promise<FifoComputeResult> {
  return checkComputeResult(await session.callInTransaction('fifo_compute', positional('fifo_compute', args)));
}
