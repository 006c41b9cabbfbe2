import { parseArgs } from 'node:util';
import { databaseUrl } from '../db/cluster.ts';
import { connect } from '../db/connect.ts';
import { openProcedureSession } from '../compute/sessions.ts';
import { runCompute } from '../compute/run-compute.ts';
import { requireVersion } from '../db/versions.ts';
import { CliError, EXIT_CHECKS_FAILED, EXIT_OK } from '../errors.ts';
import { table } from '../format.ts';
import { readBalances } from '../ledger-io/balances.ts';
import { parseDecimal, parseTimestamp, ValueError } from '../ledger-io/values.ts';
import { allocationVersion } from './args.ts';
import { readCsvFile } from './import.ts';

export const reconcileUsage =
  'usage: fifo reconcile --balances FILE.csv [--version N] [--dust D] [--as-of T] [--utc] [--no-compute] [--json]';

const DEFAULT_DUST = '0.00000001';

interface Row {
  line: number;
  asset: string;
  symbol: string | null;
  symbols: string[] | null;
  item_symbol: string;
  as_of: string;
  exchange_balance: string;
  ledger_open_size: string;
  open_lots: string;
  drift: string;
  status: 'ok' | 'drift' | 'not tracked';
  review_id?: string | null;
}

function wrap<T>(f: () => T, prefix = ''): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof ValueError) throw new CliError(`${prefix}${e.message}`);
    throw e;
  }
}

export async function reconcileCommand(args: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: {
      balances: { type: 'string' },
      version: { type: 'string' },
      dust: { type: 'string' },
      'as-of': { type: 'string' },
      utc: { type: 'boolean' },
      'no-compute': { type: 'boolean' },
      json: { type: 'boolean' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length > 0) throw new CliError(`unexpected argument ${JSON.stringify(positionals[0])}\n${reconcileUsage}`);
  if (!values.balances) throw new CliError(`--balances FILE.csv is required\n${reconcileUsage}`);
  const version = allocationVersion(values.version);
  const dust = wrap(() => parseDecimal(values.dust ?? DEFAULT_DUST, { allowZero: true }), '--dust ');
  const asOf = values['as-of'] === undefined ? null : wrap(() => parseTimestamp(values['as-of']!, { assumeUtc: values.utc }), '--as-of ');
  const file = values.balances;
  const csv = readCsvFile(file);
  const { balances, errors } = wrap(() => readBalances(csv, { asOf, assumeUtc: values.utc }), `${file}: `);
  if (errors.length > 0) {
    throw new CliError(`${file}: ${errors.length} problem(s); nothing reconciled\n${errors.slice(0, 50).map((e) => `  ${file} ${e}`).join('\n')}`);
  }
  if (balances.length === 0) throw new CliError(`${file}: no balances (only a header)`);

  const url = databaseUrl();
  const client = await connect(url);
  try {
    await requireVersion(client, version);
    const input = JSON.stringify(balances.map((b) => ({ line: b.line, asset: b.asset, symbol: b.symbol, balance: b.balance, as_of: b.asOf })));
    const recordset = `json_to_recordset($1::json) AS b(line int, asset text, symbol text, balance numeric, as_of timestamptz)`;
    // which ledger symbols each row covers: its symbol, or every symbol whose base is the asset
    const { rows: cover } = await client.query<{ dirty: string[] | null }>(
      `WITH b AS (SELECT * FROM ${recordset}),
            m AS (SELECT array_agg(DISTINCT s) AS symbols FROM b JOIN fifo_ledger_symbols() s
                    ON (b.symbol IS NOT NULL AND s = b.symbol) OR (b.symbol IS NULL AND split_part(s, '-', 1) = b.asset))
       SELECT m.symbols, (SELECT array_agg(d.symbol ORDER BY d.symbol) FROM fifo_dirty_symbols d
                           WHERE d.allocation_version = $2 AND d.symbol = ANY (m.symbols)) AS dirty
         FROM m`, [input, version]);
    const dirty = cover[0]?.dirty ?? null;
    if (dirty && dirty.length > 0) {
      if (values['no-compute']) {
        console.error(`fifo: warning: ${dirty.join(', ')} changed since version ${version} was computed; the comparison uses the stale allocations`);
      } else {
        // the allocations must reflect the ledger before their open lots are compared
        const session = await openProcedureSession(client, url, 'auto');
        try {
          const r = await runCompute(client, session, { version, symbols: dirty, force: false });
          if (r.status !== 'success') {
            throw new CliError(`computing ${dirty.join(', ')} before reconciling failed: ${r.failures.map((f) => `${f.symbol}: ${f.error}`).join('; ')}`, EXIT_CHECKS_FAILED);
          }
        } finally {
          await session.close();
        }
      }
    }

    const { rows } = await client.query<Row>(
      `WITH b AS (SELECT * FROM ${recordset}),
            syms AS (SELECT s FROM fifo_ledger_symbols() s),
            m AS (SELECT b.line, array_agg(s.s ORDER BY s.s) FILTER (WHERE s.s IS NOT NULL) AS symbols
                    FROM b LEFT JOIN syms s
                      ON (b.symbol IS NOT NULL AND s.s = b.symbol) OR (b.symbol IS NULL AND split_part(s.s, '-', 1) = b.asset)
                   GROUP BY b.line),
            pos AS (SELECT b.line, coalesce(sum(p.open_size), 0) AS open_size, coalesce(sum(p.open_lots), 0) AS open_lots
                      FROM b JOIN m USING (line)
                      LEFT JOIN LATERAL fifo_open_position($2, b.as_of, m.symbols) p ON m.symbols IS NOT NULL
                     GROUP BY b.line)
       SELECT b.line, b.asset, b.symbol, m.symbols,
              coalesce(b.symbol, CASE WHEN cardinality(m.symbols) = 1 THEN m.symbols[1] ELSE b.asset || '-*' END) AS item_symbol,
              regexp_replace(to_char(b.as_of AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'), '\\.?0+$', '') || 'Z' AS as_of,
              trim_scale(b.balance)::text AS exchange_balance, trim_scale(pos.open_size)::text AS ledger_open_size,
              pos.open_lots::text AS open_lots, trim_scale(b.balance - pos.open_size)::text AS drift,
              CASE WHEN m.symbols IS NULL AND EXISTS (SELECT 1 FROM syms WHERE split_part(syms.s, '-', 2) = b.asset) THEN 'not tracked'
                   WHEN abs(b.balance - pos.open_size) > $3::numeric THEN 'drift' ELSE 'ok' END AS status
         FROM b JOIN m USING (line) JOIN pos USING (line)
        ORDER BY b.line`, [input, version, dust]);

    // one transaction: drift items are upserted (never reopened once closed); a pending drift
    // item of the same moment that is now within dust is resolved
    await client.query('BEGIN');
    try {
      for (const r of rows) {
        const key = `asof:${r.as_of}`;
        if (r.status === 'drift') {
          const ledgerMore = r.drift.startsWith('-');
          const details = {
            asset: r.asset, symbols: r.symbols ?? [], as_of: r.as_of, exchange_balance: r.exchange_balance,
            ledger_open_size: r.ledger_open_size, open_lots: r.open_lots, drift: r.drift, dust, file, line: r.line,
            direction: ledgerMore ? 'ledger_holds_more' : 'exchange_holds_more',
            hint: ledgerMore
              ? 'the ledger holds lots the exchange does not: sells (or withdrawals) are missing from the ledger; these lots would be matched to later sells (zombie lots)'
              : 'the exchange holds more than the ledger: buys (or deposits) are missing from the ledger; later sells will be unmatched',
          };
          const { rows: up } = await client.query<{ review_id: string }>(
            `INSERT INTO manual_review_queue AS q (allocation_version, symbol, order_id, issue_type, item_key, severity, details)
             VALUES ($1, $2, NULL, 'ledger_drift', $3, $4, $5::jsonb)
             ON CONFLICT (allocation_version, symbol, issue_type, item_key) DO UPDATE
                SET details = excluded.details, severity = excluded.severity, updated_at = now()
              WHERE q.status = 'pending'
             RETURNING review_id::text`,
            [version, r.item_symbol, key, ledgerMore ? 'high' : 'medium', JSON.stringify(details)]);
          r.review_id = up[0]?.review_id ?? null;
          if (!r.review_id) {
            const { rows: closed } = await client.query<{ review_id: string }>(
              `SELECT review_id::text FROM manual_review_queue WHERE allocation_version = $1 AND symbol = $2 AND issue_type = 'ledger_drift' AND item_key = $3`,
              [version, r.item_symbol, key]);
            r.review_id = closed[0]?.review_id ?? null;
          }
        } else {
          await client.query(
            `UPDATE manual_review_queue SET status = 'resolved', resolved_at = now(), updated_at = now(),
                    resolved_by = 'fifo_reconcile', resolution_note = 'within dust when reconciled again'
              WHERE allocation_version = $1 AND symbol = $2 AND issue_type = 'ledger_drift' AND item_key = $3 AND status = 'pending'`,
            [version, r.item_symbol, key]);
        }
      }
      await client.query('COMMIT');
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {});
      throw e;
    }

    const drifted = rows.filter((r) => r.status === 'drift');
    if (values.json) {
      console.log(JSON.stringify({ version, dust, drift: drifted.length, rows }));
    } else {
      console.log(table(rows.map((r) => ({
        line: r.line, asset: r.symbol ?? r.asset, as_of: r.as_of, exchange: r.exchange_balance, ledger: r.ledger_open_size,
        drift: r.drift, status: r.status === 'drift' ? 'DRIFT' : r.status, review: r.review_id ?? '',
      }))));
      const notTracked = rows.filter((r) => r.status === 'not tracked').map((r) => r.asset);
      if (notTracked.length > 0) console.log(`not tracked: ${notTracked.join(', ')} (only a quote currency in the ledger: no lots to compare)`);
      console.log(drifted.length === 0
        ? `version ${version}: every balance matches the open lots within ${dust}`
        : `version ${version}: ${drifted.length} balance(s) drift beyond ${dust}: ledger_drift review items ${drifted.map((r) => r.review_id).join(', ')} (fifo review show ID)`);
    }
    return drifted.length > 0 ? EXIT_CHECKS_FAILED : EXIT_OK;
  } finally {
    await client.end();
  }
}
