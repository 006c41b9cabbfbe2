/**
 * One compute run in a process of its own, as `fifo compute --force` runs it (same
 * runCompute, same procedure session), so its peak RSS is the runner's own and not the
 * bench's (which holds the generated ledger). Argument: a JSON ChildRequest. Prints one
 * JSON ChildReport line on stdout.
 */
import pg from 'pg';
import { runCompute } from '../../../packages/cli/src/compute/run-compute.ts';
import { openProcedureSession, type HostChoice } from '../../../packages/cli/src/compute/sessions.ts';
import { noTimings, timedSession, type PhaseTimings } from './timed-session.ts';

export interface ChildRequest {
  url: string;
  version: number;
  host: HostChoice;
  /** null: every symbol */
  symbols: string[] | null;
}

export interface ChildReport {
  /** epoch ms around session open + runCompute (process start-up and connect excluded) */
  startedAt: number;
  finishedAt: number;
  ms: number;
  status: string;
  host: string;
  symbols: number;
  trades: number;
  allocations: number;
  unmatched: number;
  timings: PhaseTimings;
  maxRssMB: number;
}

async function main(): Promise<void> {
  const req = JSON.parse(process.argv[2] ?? '') as ChildRequest;
  const client = new pg.Client({ connectionString: req.url, application_name: 'fifo-ledger bench compute' });
  await client.connect();
  const timings = noTimings();
  const startedAt = Date.now();
  const t0 = performance.now();
  const session = timedSession(await openProcedureSession(client, req.url, req.host), timings);
  const r = await runCompute(client, session, { version: req.version, symbols: req.symbols, force: true, strictSymbols: false });
  const ms = performance.now() - t0;
  const finishedAt = Date.now();
  await session.close();
  await client.end();
  const report: ChildReport = {
    startedAt, finishedAt, ms, status: r.status, host: r.host, symbols: r.symbolsComputed, trades: r.tradesProcessed,
    allocations: r.allocationsWritten, unmatched: r.unmatchedCount, timings,
    maxRssMB: process.resourceUsage().maxRSS / 1024,
  };
  if (r.status !== 'success') {
    console.error(r.failures.slice(0, 5).map((f) => `${f.symbol}: ${f.error}`).join('\n'));
  }
  console.log(JSON.stringify(report));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
