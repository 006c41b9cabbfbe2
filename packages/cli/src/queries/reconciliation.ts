/**
 * Exchange balances against the ledger's open lots (fifo_open_position, migration 011): which
 * symbols a balance covers and how far the two are apart at its moment.
 */
import type pg from 'pg';
import type { Balance } from '../ledger-io/balances.ts';
import { quoteOf, utcIso } from './sql.ts';

export interface BalanceComparison {
  line: number;
  asset: string;
  symbol: string | null;
  /** The ledger symbols the balance covers: its symbol, or every symbol whose base is the asset. */
  symbols: string[] | null;
  /** The symbol its review item is filed under (`ASSET-*` for several). */
  item_symbol: string;
  as_of: string;
  exchange_balance: string;
  ledger_open_size: string;
  /** NULL for a balance of one account (the lots of an account at a past moment are not counted). */
  open_lots: string | null;
  /** The balance's account (per_account versions), or null. */
  account: string | null;
  drift: string;
  status: 'ok' | 'drift' | 'not tracked';
}

const BALANCES = `json_to_recordset($1::json) AS b(line int, asset text, symbol text, balance numeric, as_of timestamptz, account text)`;
const COVERS = (s: string) => `(b.symbol IS NOT NULL AND ${s} = b.symbol) OR (b.symbol IS NULL AND split_part(${s}, '-', 1) = b.asset)`;

const json = (balances: readonly Balance[]) =>
  JSON.stringify(balances.map((b) => ({ line: b.line, asset: b.asset, symbol: b.symbol, balance: b.balance, as_of: b.asOf, account: b.account })));

/** The covered symbols that wait for a recompute in `version` (sorted), or null. */
export async function dirtyCoveredSymbols(client: pg.Client, version: number, balances: readonly Balance[]): Promise<string[] | null> {
  const { rows } = await client.query<{ dirty: string[] | null }>(
    `WITH b AS (SELECT * FROM ${BALANCES}),
          m AS (SELECT array_agg(DISTINCT s) AS symbols FROM b JOIN fifo_ledger_symbols() s ON ${COVERS('s')})
     SELECT m.symbols, (SELECT array_agg(d.symbol ORDER BY d.symbol) FROM fifo_dirty_symbols d
                         WHERE d.allocation_version = $2 AND d.symbol = ANY (m.symbols)) AS dirty
       FROM m`, [json(balances), version]);
  return rows[0]?.dirty ?? null;
}

/**
 * Each balance against the open lots at its moment (of its account, when it names one:
 * fifo_open_position_by_account, migration 018); beyond `dust` it is a drift.
 */
export async function compareBalances(client: pg.Client, version: number, balances: readonly Balance[], dust: string): Promise<BalanceComparison[]> {
  const { rows } = await client.query<BalanceComparison>(
    `WITH b AS (SELECT * FROM ${BALANCES}),
          syms AS (SELECT s FROM fifo_ledger_symbols() s),
          m AS (SELECT b.line, array_agg(s.s ORDER BY s.s) FILTER (WHERE s.s IS NOT NULL) AS symbols
                  FROM b LEFT JOIN syms s ON ${COVERS('s.s')}
                 GROUP BY b.line),
          pos AS (SELECT b.line, coalesce(sum(p.open_size), 0) + coalesce(sum(pa.open_size), 0) AS open_size,
                         CASE WHEN b.account IS NULL THEN coalesce(sum(p.open_lots), 0) END AS open_lots
                    FROM b JOIN m USING (line)
                    LEFT JOIN LATERAL fifo_open_position($2, b.as_of, m.symbols) p ON m.symbols IS NOT NULL AND b.account IS NULL
                    LEFT JOIN LATERAL fifo_open_position_by_account($2, b.as_of, m.symbols, b.account) pa
                           ON m.symbols IS NOT NULL AND b.account IS NOT NULL
                   GROUP BY b.line, b.account)
     SELECT b.line, b.asset, b.symbol, m.symbols,
            coalesce(b.symbol, CASE WHEN cardinality(m.symbols) = 1 THEN m.symbols[1] ELSE b.asset || '-*' END) AS item_symbol,
            ${utcIso('b.as_of')} AS as_of,
            trim_scale(b.balance)::text AS exchange_balance, trim_scale(pos.open_size)::text AS ledger_open_size,
            pos.open_lots::text AS open_lots, b.account, trim_scale(b.balance - pos.open_size)::text AS drift,
            CASE WHEN m.symbols IS NULL AND EXISTS (SELECT 1 FROM syms WHERE ${quoteOf('syms.s')} = b.asset) THEN 'not tracked'
                 WHEN abs(b.balance - pos.open_size) > $3::numeric THEN 'drift' ELSE 'ok' END AS status
       FROM b JOIN m USING (line) JOIN pos USING (line)
      ORDER BY b.line`, [json(balances), version, dust]);
  return rows;
}
