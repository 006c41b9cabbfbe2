/**
 * Market prices (issue 13): bad `fifo import prices` files (exit 2, nothing written) and bad
 * market_prices rows and privileges (their SQLSTATE). Each case also checks that
 * market_prices itself is unchanged, which the catalogue's own state check does not count.
 */
import type { Case, CaseContext, Cases, Outcome } from './context.ts';

const HEADER = 'symbol,price_time,price';

export function cases({ t, cli, sql, file }: CaseContext): Cases {
  const count = async () => Number((await t().query<{ n: string }>('SELECT count(*) AS n FROM market_prices'))[0]!.n);
  /** The case's outcome, or a failing one when it changed market_prices. */
  const unchanged = (c: Case): Case => async (): Promise<Outcome> => {
    const before = await count();
    const got = await c();
    const after = await count();
    return after === before ? got : { exit: got.exit, message: `market_prices went from ${before} to ${after} rows: ${got.message}` };
  };
  /** `fifo import prices` on a file of `lines` (a header first). */
  const prices = (name: string, lines: string[], flags: string[] = []): Case => async () =>
    unchanged(cli(['import', 'prices', file(name, `${lines.join('\n')}\n`), ...flags]))();
  /** Runs `statement` as `role` in a transaction that is rolled back. */
  const as = (role: string, statement: string): Case => async (): Promise<Outcome> => {
    const c = t().client;
    await c.query('BEGIN');
    try {
      await c.query(`SET LOCAL ROLE ${role}`);
      await c.query(statement);
      return { exit: '0', message: '' };
    } catch (e) {
      const err = e as Error & { code?: string };
      return { exit: err.code ?? '?', message: err.message };
    } finally {
      await c.query('ROLLBACK');
    }
  };
  const row = (values: string) => unchanged(sql(`INSERT INTO market_prices (symbol, price_time, price, source) VALUES ${values}`));

  return {
    // a good row first: a bad one anywhere refuses the whole file
    'prices-bad-number': prices('p-number.csv', [HEADER, 'SOL-USD,2025-01-01T00:00:00Z,10', 'SOL-USD,2025-01-02T00:00:00Z,"12,5"']),
    'prices-text-number': prices('p-text.csv', [HEADER, 'SOL-USD,2025-01-01T00:00:00Z,10', 'SOL-USD,2025-01-02T00:00:00Z,n/a']),
    'prices-exponent': prices('p-exp.csv', [HEADER, 'SOL-USD,2025-01-01T00:00:00Z,1e3']),
    'prices-zero': prices('p-zero.csv', [HEADER, 'SOL-USD,2025-01-01T00:00:00Z,0']),
    'prices-negative': prices('p-neg.csv', [HEADER, 'SOL-USD,2025-01-01T00:00:00Z,-5']),
    'prices-too-precise': prices('p-scale.csv', [HEADER, 'SOL-USD,2025-01-01T00:00:00Z,0.0000000000000000001']),
    'prices-too-large': prices('p-large.csv', [HEADER, 'SOL-USD,2025-01-01T00:00:00Z,1000000000000001']),
    'prices-bad-time': prices('p-time.csv', [HEADER, 'SOL-USD,2025-02-30T00:00:00Z,10']),
    'prices-time-no-offset': prices('p-offset.csv', [HEADER, 'SOL-USD,2025-01-01T00:00:00,10']),
    'prices-time-infinity': prices('p-inf.csv', [HEADER, 'SOL-USD,infinity,10']),
    'prices-time-sub-microsecond': prices('p-ns.csv', [HEADER, 'SOL-USD,2025-01-01T00:00:00.0000001Z,10']),
    'prices-bad-symbol': prices('p-symbol.csv', [HEADER, 'SOLUSD,2025-01-01T00:00:00Z,10']),
    'prices-bad-source': prices('p-source.csv', ['symbol,price_time,price,source', 'SOL-USD,2025-01-01T00:00:00Z,10,"desk\tA"']),
    'prices-duplicate-key': prices('p-dup.csv', [HEADER, 'SOL-USD,2025-01-01T00:00:00Z,10', 'sol-usd,2025-01-01T01:00:00+01:00,11']),
    'prices-missing-column': prices('p-missing.csv', ['symbol,price', 'SOL-USD,10']),
    'prices-unknown-column': prices('p-unknown.csv', ['symbol,price_time,price,close', 'SOL-USD,2025-01-01T00:00:00Z,10,11']),
    'prices-no-file': unchanged(cli(['import', 'prices', '/nonexistent/prices.csv'])),
    'prices-row-zero': row(`('SOL-USD', '2025-01-01Z', 0, 'x')`),
    'prices-row-nan': row(`('SOL-USD', '2025-01-01Z', 'NaN', 'x')`),
    'prices-row-time-infinity': row(`('SOL-USD', 'infinity', 1, 'x')`),
    'prices-row-lower-case': row(`('sol-usd', '2025-01-01Z', 1, 'x')`),
    'priv-reader-writes-prices': unchanged(as('fifo_reader', `INSERT INTO market_prices (symbol, price_time, price) VALUES ('SOL-USD', '2025-01-01Z', 1)`)),
    'priv-engine-deletes-prices': unchanged(as('fifo_engine', `DELETE FROM market_prices`)),
    'priv-reader-refreshes-long-held': as('fifo_reader', `SELECT fifo_refresh_long_held_lots(1, NULL)`),
    'priv-writer-sets-long-held-rule': as('fifo_writer', `UPDATE fifo_long_held_rules SET median_multiple = 1`),
  };
}
