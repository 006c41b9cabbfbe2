/**
 * `fifo demo`: the main job on the embedded default, in a sandbox that a rerun recreates.
 *
 * Where it writes: on the embedded server (no DATABASE_URL) the database `fifo_demo`, dropped
 * and created again on every run; with DATABASE_URL, the schema `fifo_demo` (or --schema) in
 * that database, dropped and created again. Either carries a comment naming it the demo's,
 * and the demo refuses to drop a database or schema of that name that it did not create.
 * Nothing else is touched.
 */
import { databaseUrl, startCluster } from '../db/cluster.ts';
import { connect } from '../db/connect.ts';
import { migrate } from '../db/migrate.ts';
import { openProcedureSession } from '../compute/sessions.ts';
import { runCompute, type ComputeRunResult } from '../compute/run-compute.ts';
import { CliError, EXIT_OK } from '../errors.ts';
import { table } from '../format.ts';
import { renderHtml } from '../report/html.ts';
import { buildReport } from '../report/query.ts';
import { renderText } from '../report/text.ts';
import { generateLedger, unitsToText } from '../sample/ledger-generator.ts';
import { insertTrades } from '../sample/load-ledger.ts';
import { parseCommand } from '../cli/parse.ts';
import type { ParsedCommand } from '../cli/spec.ts';
import { DEFAULT_MAX_LAG_MINUTES } from '../cli/spec.ts';
import { DEMO, recreateDemoDatabase, recreateDemoSchema } from '../demo/sandbox.ts';
import { outputPath, writeAtomically } from '../format/write-atomically.ts';
import { assessHealth, renderHealth } from '../health/assess.ts';
import { addBackdatedFill, addMarketPrices, correctLatestSell } from '../queries/demo-scenario.ts';
import { queueOverview } from '../queries/reviews.ts';
import { onFlags, onFlagsSync } from './domain-errors.ts';

/** Decimal text → integer count of 10^-scale units (the generator's amounts have ≤ scale decimals). */
function units(text: string, scale: number): bigint {
  const [int, frac = ''] = text.split('.');
  return BigInt(int! + frac.padEnd(scale, '0'));
}

/** A high-volume scalper's fee tier: 0.1 % of the notional, truncated to 10^-8 (the generator charges 0.6 %). */
function scalperFee(price: string, size: string): string {
  // price in 10^-4 and size in 10^-8 units: notional in 10^-12; 0.1 % of it in 10^-8 is / 10^7
  return unitsToText((units(price, 4) * units(size, 8)) / 10_000_000n, 8);
}

function say(line = ''): void {
  console.log(line);
}

function computeLine(r: ComputeRunResult): string {
  return `run ${r.computationId} (${r.mode}, ${r.host}): ${r.symbolsComputed} symbol(s), ${r.tradesProcessed} trades, ` +
    `${r.allocationsWritten} allocations, ${r.unmatchedCount} unmatched, ${(r.durationMs / 1000).toFixed(2)} s`;
}

export async function demoCommand(args: readonly string[]): Promise<number> {
  return run(parseCommand('demo', args));
}

export async function run({ values }: ParsedCommand<'demo'>): Promise<number> {
  const { trades, symbols, seed, days } = values;
  if (symbols > trades) throw new CliError(`--symbols (${symbols}) cannot exceed --trades (${trades})`);
  if (values.schema !== undefined) {
    if (!process.env.DATABASE_URL) throw new CliError(`--schema applies with DATABASE_URL only; on the embedded server the demo uses its own database ${DEMO}`);
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(values.schema) || values.schema === 'public') {
      throw new CliError(`--schema must be a plain lower-case identifier other than public, got ${JSON.stringify(values.schema)}`);
    }
  }
  const out = onFlagsSync(() => outputPath(values.out ?? 'out/demo-report.html'), { out_is_directory: '--out' });
  const started = performance.now();

  // 1. a sandbox database (embedded) or schema (DATABASE_URL), migrated
  let url: string;
  let where: string;
  if (process.env.DATABASE_URL) {
    const schema = values.schema ?? DEMO;
    url = await onFlags(recreateDemoSchema(databaseUrl(), schema), { sandbox_not_ours: '--schema' });
    await migrate({ url, direction: 'up', schema });
    where = `schema ${schema} of DATABASE_URL`;
  } else {
    const r = await startCluster();
    if (r.started) console.error(`embedded PostgreSQL started: ${r.url}`);
    url = await onFlags(recreateDemoDatabase(r.url));
    await migrate({ url, direction: 'up' });
    where = `database ${DEMO} on the embedded server`;
  }
  say(`== fifo demo: ${where} (recreated), schema migrated`);

  const client = await connect(url);
  const session = await openProcedureSession(client, url, 'auto');
  try {
    // 2. a scalping ledger over `symbols` symbols and `days` days, with some oversells
    // some oversells at any size: 0.2 % of the fills, at least about 8
    const oversellRate = Math.max(0.002, 8 / trades);
    const ledger = generateLedger({
      trades, symbols, seed, oversellRate,
      start: new Date('2026-01-05T00:00:00Z'),
      spacingSeconds: Math.max(1, Math.floor((days * 86_400 * Math.min(symbols, trades)) / trades)),
    }).map((t) => ({ ...t, total_fees_usd: scalperFee(t.price, t.size) }));
    await client.query('BEGIN');
    await insertTrades(client, ledger);
    await client.query('COMMIT');
    say(`ledger: ${trades} fills over ${symbols} symbols and about ${days} days (seed ${seed}, fees 0.1 %, oversell rate ${(oversellRate * 100).toFixed(2)} %)`);

    // 3. compute every symbol
    const first = await runCompute(client, session, { version: 1, symbols: null, force: true });
    say(`compute: ${computeLine(first)}`);

    // 4. a back-dated fill: the buy behind the earliest oversell, found late by the exporter
    const late = await addBackdatedFill(client);
    if (late) say(`back-dated fill: ${late.order_id} (buy ${late.size} at ${late.order_time.slice(0, 16).replace('T', ' ')} UTC), the missing buy behind oversell ${late.covers}`);

    // 5. a corrected fill: the exchange revised the price and fee of a sell
    const fix = await correctLatestSell(client);
    if (fix) say(`corrected fill: ${fix.order_id} price ${fix.old_price} -> ${fix.price}, fee ${fix.old_fee} -> ${fix.fee} (audited in trade_records_audit)`);

    // 6. recompute only what the two changes reached
    const second = await runCompute(client, session, { version: 1, symbols: null, force: false, incremental: true });
    say(`compute: ${computeLine(second)}`);

    // 7. sample market prices: the open positions are marked at the end of the last day
    const prices = await addMarketPrices(client);
    say(`market prices: ${prices.priced} symbol(s) at 1 % above their last fill, at the last fill's time` +
      `${prices.stale ? `, ${prices.stale} three days early (stale)` : ''}${prices.unpriced ? `, ${prices.unpriced} without a price (value unknown)` : ''}`);

    // 8. the report up to the end of the last day, health and review queue; the HTML report
    const to = { raw: prices.last_day, time: new Date(`${prices.last_day}T00:00:00Z`), dateOnly: true };
    const data = await buildReport(client, { version: 1, from: null, to, by: 'symbol', tz: 'UTC', withSeries: true, unmatchedLimit: 25 });
    say();
    say(renderText(data));
    say();
    say('== fifo health');
    const health = await assessHealth(client, 1, DEFAULT_MAX_LAG_MINUTES);
    say(renderHealth(health));
    if (!health.healthy) say('(`fifo health` exits 1 on this: the demo ledger has oversells waiting for review)');
    say();
    const { items: queue, pending, closed } = await queueOverview(client, 1, 20);
    say(`== review queue: ${pending} pending, ${closed} closed${queue.length < pending + closed ? ` (first ${queue.length})` : ''}`);
    say(table(queue));
    onFlagsSync(() => writeAtomically(out, renderHtml(data), { makeDirs: true }), { write_failed: '--out' });
    say();
    say(`HTML report: ${out}`);
    say(`explore: DATABASE_URL='${url}' pnpm fifo report --by source`);
    say(`mail it: DATABASE_URL='${url}' pnpm -s fifo report --format eml --mail-to you@example.com | sendmail -t`);
    say(`demo done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return EXIT_OK;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    await session.close();
    await client.end();
  }
}
