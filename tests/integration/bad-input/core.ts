/** The first catalogue: CLI arguments, environment, DSNs, symbols, CSV files, ledger rows. */
import { baseUrl, createTestSchema } from '../../helpers/db.ts';
import type { CaseContext, Cases } from './context.ts';

const COINBASE_HEADER = 'trade_id,order_id,trade_time,price,size,commission,product_id,side';

export function cases({ cli, sql, file, insert }: CaseContext): Cases {
  return {
    'cli-unknown-command': cli(['frobnicate']),
    'cli-unknown-option': cli(['compute', '--bogus']),
    'cli-version-text': cli(['compute', '--version', 'x']),
    'cli-version-zero': cli(['validate', '--version', '0']),
    'cli-version-missing': cli(['compute', '--version', '99']),
    'env-version-text': cli(['health'], { FIFO_ALLOCATION_VERSION: 'abc' }),
    'cli-host-unknown': cli(['compute', '--host', 'gpu']),
    // A schema of its own without the in-database procedures: holds where PLV8 exists too.
    'cli-host-plv8-absent': async () => {
      const bare = await createTestSchema({ prefix: 'noplv8' });
      try {
        await bare.query(`DROP FUNCTION IF EXISTS fifo_compute(int, text[], text, bigint)`);
        return await cli(['compute', '--host', 'plv8'], { DATABASE_URL: bare.url })();
      } finally {
        await bare.drop();
      }
    },
    'cli-force-incremental': cli(['compute', '--force', '--incremental']),
    'cli-since-text': cli(['compute', '--since', 'yesterday']),
    'cli-batch-negative': cli(['compute', '--batch-trades=-5']),
    'cli-concurrency-huge': cli(['compute', '--concurrency', '99']),
    'cli-migrate-direction': cli(['migrate', 'sideways']),
    'cli-drop-facts-up': cli(['migrate', 'up', '--drop-facts']),
    'cli-db-action': cli(['db', 'explode']),
    'cli-oversell-rate': cli(['sample-ledger', '--oversell-rate', '2']),
    'cli-export-year': cli(['export', 'lots', '--year', '25']),
    'cli-diff-same': cli(['diff', '--from', '1', '--to', '1']),
    'symbol-sql': cli(['compute', '--symbol', "SOL'; DROP TABLE trade_records; --"]),
    'symbol-quote': cli(['compute', '--symbol', 'SOL"-USD']),
    'symbol-too-long': cli(['compute', '--symbol', `${'A'.repeat(40)}-USD`]),
    'symbol-unknown': cli(['compute', '--symbol', 'NOPE-USD']),
    'dsn-not-url': cli(['health'], { DATABASE_URL: 'not a url' }),
    'dsn-scheme': cli(['health'], { DATABASE_URL: 'mysql://u@localhost/db' }),
    'dsn-unreachable': cli(['health'], { DATABASE_URL: 'postgres://u@127.0.0.1:1/db' }),
    'dsn-no-database': async () => {
      const u = new URL(baseUrl());
      u.pathname = '/no_such_db';
      return cli(['health'], { DATABASE_URL: u.toString() })();
    },
    'csv-missing-file': cli(['import', 'coinbase', '/nonexistent.csv']),
    'csv-not-coinbase': async () => cli(['import', 'coinbase', file('nocol.csv', 'trade_id,trade_time,price,size,commission,product_id,side\nt1,2025-01-01T00:00:00Z,1,1,0,SOL-USD,BUY\n')])(),
    'csv-bad-number': async () => cli(['import', 'coinbase', file('badnum.csv',
      `${COINBASE_HEADER}\nt1,o1,2025-01-01T00:00:00Z,100,1,0,SOL-USD,BUY\nt2,o2,2025-01-02T00:00:00Z,"12,5",1,0,SOL-USD,SELL\n`)])(),
    'csv-negative-size': async () => cli(['import', 'coinbase', file('negsize.csv',
      `${COINBASE_HEADER}\nt1,o1,2025-01-01T00:00:00Z,100,-1,0,SOL-USD,BUY\n`)])(),
    'csv-balances-empty': async () => cli(['reconcile', '--balances', file('empty-balances.csv', 'asset,balance,as_of\n')])(),
    'row-size-zero': insert(`('x', 'SOL-USD', 'buy', 0, 1, 0, now())`),
    'row-size-huge': insert(`('x', 'SOL-USD', 'buy', 1e16, 1, 0, now())`),
    'row-size-tiny': insert(`('x', 'SOL-USD', 'buy', 1e-19, 1, 0, now())`),
    'row-size-nan': insert(`('x', 'SOL-USD', 'buy', 'NaN', 1, 0, now())`),
    'row-price-negative': insert(`('x', 'SOL-USD', 'buy', 1, -5, 0, now())`),
    'row-fee-negative': insert(`('x', 'SOL-USD', 'buy', 1, 1, -0.01, now())`),
    'row-side-hold': insert(`('x', 'SOL-USD', 'hold', 1, 1, 0, now())`),
    'row-time-null': insert(`('x', 'SOL-USD', 'buy', 1, 1, 0, NULL)`),
    'row-symbol-sql': insert(`('x', 'SOL''; DROP TABLE x; --', 'buy', 1, 1, 0, now())`),
    'row-order-id-blank': insert(`('', 'SOL-USD', 'buy', 1, 1, 0, now())`),
    'row-order-id-duplicate': insert(`('keep-1', 'SOL-USD', 'buy', 1, 1, 0, now())`),
    'row-order-id-change': sql(`UPDATE trade_records SET order_id = 'other' WHERE order_id = 'keep-1'`),
    'row-audit-edit': sql(`DELETE FROM trade_records_audit`),
  };
}
