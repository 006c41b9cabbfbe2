/**
 * `fifo demo`: the main job on the embedded default, in a sandbox that a rerun recreates.
 *
 * Where it writes: on the embedded server (no DATABASE_URL) the database `fifo_demo`, dropped
 * and created again on every run; with DATABASE_URL, the schema `fifo_demo` (or --schema) in
 * that database, dropped and created again. Either carries a comment naming it the demo's,
 * and the demo refuses to drop a database or schema of that name that it did not create.
 * Nothing else is touched.
 */
import { parseArgs } from 'node:util';
import pg from 'pg';
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
import { positiveInt } from './args.ts';
import { assessHealth, DEFAULT_MAX_LAG_MINUTES, renderHealth } from './health.ts';
import { checkOutPath, writeAtomically } from './report.ts';

export const demoUsage = 'usage: fifo demo [--trades N] [--symbols M] [--seed S] [--days D] [--schema NAME] [--out FILE]';

const DEMO = 'fifo_demo';
const MARK = 'fifo demo sandbox: dropped and recreated by `fifo demo`';

function withSearchPath(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return u.toString();
}

async function adminQuery<T extends pg.QueryResultRow>(url: string, fn: (c: pg.Client) => Promise<T[] | void>): Promise<T[] | void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Drops and recreates database fifo_demo on the embedded server; returns its URL. */
async function recreateDemoDatabase(serverUrl: string): Promise<string> {
  const admin = serverUrl.replace(/\/[^/?]*(\?.*)?$/, '/postgres');
  await adminQuery(admin, async (c) => {
    const { rows } = await c.query<{ note: string | null }>(
      `SELECT shobj_description(oid, 'pg_database') AS note FROM pg_database WHERE datname = $1`, [DEMO]);
    if (rows[0] && rows[0].note !== MARK) {
      throw new CliError(`database ${DEMO} exists and was not created by \`fifo demo\`; the demo will not drop it (rename or drop it yourself)`);
    }
    await c.query(`DROP DATABASE IF EXISTS ${DEMO} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${DEMO}`);
    await c.query(`COMMENT ON DATABASE ${DEMO} IS '${MARK.replaceAll("'", "''")}'`);
  });
  return serverUrl.replace(/\/[^/?]*(\?.*)?$/, `/${DEMO}`);
}

/** Drops and recreates the demo schema in the DATABASE_URL database; returns a URL using it. */
async function recreateDemoSchema(url: string, schema: string): Promise<string> {
  await adminQuery(url, async (c) => {
    const { rows } = await c.query<{ note: string | null }>(
      `SELECT obj_description(oid, 'pg_namespace') AS note FROM pg_namespace WHERE nspname = $1`, [schema]);
    if (rows[0] && rows[0].note !== MARK) {
      throw new CliError(`--schema ${schema}: the schema exists and was not created by \`fifo demo\`; the demo will not drop it`);
    }
    await c.query(`SET client_min_messages = warning`);
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await c.query(`CREATE SCHEMA ${schema}`);
    await c.query(`COMMENT ON SCHEMA ${schema} IS '${MARK.replaceAll("'", "''")}'`);
  });
  return withSearchPath(url, schema);
}

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
  const { values } = parseArgs({
    args: [...args],
    options: {
      trades: { type: 'string' },
      symbols: { type: 'string' },
      seed: { type: 'string' },
      days: { type: 'string' },
      schema: { type: 'string' },
      out: { type: 'string' },
    },
    strict: true,
  });
  const trades = values.trades === undefined ? 20_000 : positiveInt('--trades', values.trades);
  const symbols = values.symbols === undefined ? 30 : positiveInt('--symbols', values.symbols);
  const seed = values.seed === undefined ? 7 : positiveInt('--seed', values.seed);
  const days = values.days === undefined ? 45 : positiveInt('--days', values.days);
  if (symbols > trades) throw new CliError(`--symbols (${symbols}) cannot exceed --trades (${trades})`);
  if (values.schema !== undefined) {
    if (!process.env.DATABASE_URL) throw new CliError(`--schema applies with DATABASE_URL only; on the embedded server the demo uses its own database ${DEMO}`);
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(values.schema) || values.schema === 'public') {
      throw new CliError(`--schema must be a plain lower-case identifier other than public, got ${JSON.stringify(values.schema)}`);
    }
  }
  if (values.out === '') throw new CliError('--out must name a file');
  const out = checkOutPath(values.out ?? 'out/demo-report.html');
  const started = performance.now();

  // 1. a sandbox database (embedded) or schema (DATABASE_URL), migrated
  let url: string;
  let where: string;
  if (process.env.DATABASE_URL) {
    const schema = values.schema ?? DEMO;
    url = await recreateDemoSchema(databaseUrl(), schema);
    await migrate({ url, direction: 'up', schema });
    where = `schema ${schema} of DATABASE_URL`;
  } else {
    const r = await startCluster();
    if (r.started) console.error(`embedded PostgreSQL started: ${r.url}`);
    url = await recreateDemoDatabase(r.url);
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
    const { rows: [late] } = await client.query<{ order_id: string; symbol: string; order_time: string; size: string; covers: string }>(
      `WITH u AS (
         SELECT symbol, sell_order_id, sell_time, sell_price, unmatched_size FROM v_unmatched_sells
          WHERE allocation_version = 1 ORDER BY sell_time, symbol COLLATE "C", sell_order_id COLLATE "C" LIMIT 1)
       INSERT INTO trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time, source, trigger)
       SELECT u.symbol || '-late-fill', u.symbol, 'buy', u.unmatched_size, round(u.sell_price * 0.99, 4),
              round(round(u.sell_price * 0.99, 4) * u.unmatched_size * 0.006, 8), u.sell_time - interval '10 minutes', 'scalper', NULL
         FROM u
       RETURNING order_id, symbol, to_char(order_time AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS order_time, size::text,
                 (SELECT sell_order_id FROM u) AS covers`);
    if (late) say(`back-dated fill: ${late.order_id} (buy ${late.size} at ${late.order_time} UTC), the missing buy behind oversell ${late.covers}`);

    // 5. a corrected fill: the exchange revised the price and fee of a sell
    const { rows: [fix] } = await client.query<{ order_id: string; old_price: string; price: string; old_fee: string; fee: string }>(
      `WITH target AS (
         SELECT t.order_id, t.price AS old_price, t.total_fees_usd AS old_fee FROM trade_records t
          WHERE t.side = 'sell' AND t.symbol = (SELECT min(symbol COLLATE "C") FROM trade_records)
          ORDER BY t.order_time DESC, t.order_id LIMIT 1)
       UPDATE trade_records t SET price = round(t.price * 1.002, 4), total_fees_usd = round(t.total_fees_usd * 1.002, 8)
         FROM target WHERE t.order_id = target.order_id
       RETURNING t.order_id, target.old_price::text, t.price::text, target.old_fee::text, t.total_fees_usd::text AS fee`);
    if (fix) say(`corrected fill: ${fix.order_id} price ${fix.old_price} -> ${fix.price}, fee ${fix.old_fee} -> ${fix.fee} (audited in trade_records_audit)`);

    // 6. recompute only what the two changes reached
    const second = await runCompute(client, session, { version: 1, symbols: null, force: false, incremental: true });
    say(`compute: ${computeLine(second)}`);

    // 7. the report, health and review queue; the HTML report
    const data = await buildReport(client, { version: 1, from: null, to: null, by: 'symbol', withSeries: true, unmatchedLimit: 25 });
    say();
    say(renderText(data));
    say();
    say('== fifo health');
    const health = await assessHealth(client, 1, DEFAULT_MAX_LAG_MINUTES);
    say(renderHealth(health));
    if (!health.healthy) say('(`fifo health` exits 1 on this: the demo ledger has oversells waiting for review)');
    say();
    const { rows: queue } = await client.query(
      `SELECT review_id, symbol, order_id, issue_type, severity, status,
              details->>'requested' AS requested, details->>'available' AS available, resolution_note
         FROM manual_review_queue WHERE allocation_version = 1
        ORDER BY status = 'pending', review_id LIMIT 20`);
    const { rows: [counts] } = await client.query<{ pending: number; closed: number }>(
      `SELECT count(*) FILTER (WHERE status = 'pending')::int AS pending, count(*) FILTER (WHERE status <> 'pending')::int AS closed
         FROM manual_review_queue WHERE allocation_version = 1`);
    say(`== review queue: ${counts?.pending ?? 0} pending, ${counts?.closed ?? 0} closed${queue.length < (counts?.pending ?? 0) + (counts?.closed ?? 0) ? ` (first ${queue.length})` : ''}`);
    say(table(queue));
    writeAtomically(out, renderHtml(data));
    say();
    say(`HTML report: ${out}`);
    say(`explore: DATABASE_URL='${url}' pnpm fifo report --by source`);
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
