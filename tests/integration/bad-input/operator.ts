/**
 * Operator inputs (issue 15): import files of an unknown layout or with wrong units, a file
 * whose field-count problem comes with others, adopting a legacy table with duplicate order
 * ids, an opening balance that would re-match other sells without --yes, and the new flags.
 * Cases that need a ledger of their own (a legacy table, computed sells) make a schema and
 * drop it.
 */
import { createTestSchema } from '../../helpers/db.ts';
import type { CaseContext, Cases, Outcome } from './context.ts';

const PRO_HEADER = 'portfolio,trade id,product,side,created at,size,size unit,price,fee,total,price/fee/total unit';

export function cases({ cli, file }: CaseContext): Cases {
  /** `fifo import coinbase` of a file written when the case runs. */
  const coinbase = (name: string, text: string) => async (): Promise<Outcome> => cli(['import', 'coinbase', file(name, text)])();
  return {
    'op-import-unknown-header': coinbase('op-kraken.csv',
      'Date,Pair,Type,Amount,Rate,Fees,TxId\n2025-04-01T00:00:00Z,SOL/USD,buy,1,100,0.1,kx-1\n'),
    'op-import-pro-size-unit': coinbase('op-pro-unit.csv',
      `${PRO_HEADER}\ndefault,1,SOL-USD,BUY,2025-03-05T00:00:00Z,100,USD,100,0.1,-100.1,USD\n`),
    'op-import-ragged-and-bad': coinbase('op-ragged.csv',
      `${PRO_HEADER}\ndefault,2,SOL-USD,BUY,2025-03-05T00:00:00Z,-1,SOL,100,0,-100,USD\ndefault,3,SOL-USD,BUY,2025-03-05T00:00:00Z,1,SOL\n`),
    'op-migrate-duplicate-ids': async (): Promise<Outcome> => {
      const legacy = await createTestSchema({
        migrated: false,
        prefix: 'opdup',
        before: `CREATE TABLE trade_records (order_id text, symbol text NOT NULL, side text NOT NULL, size numeric NOT NULL,
                   price numeric NOT NULL, order_time timestamptz NOT NULL, parent_id text, pnl_usd numeric);
                 INSERT INTO trade_records VALUES ('dup', 'SOL-USD', 'buy', 1, 100, '2025-09-01Z', NULL, NULL),
                                                  ('dup', 'SOL-USD', 'sell', 1, 110, '2025-09-02Z', 'dup', 10);`,
      });
      try {
        return await cli(['migrate', 'up'], { DATABASE_URL: legacy.url })();
      } finally {
        await legacy.drop();
      }
    },
    'op-opening-moves-others': async (): Promise<Outcome> => {
      const own = await createTestSchema({ prefix: 'opopen' });
      try {
        await own.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time) VALUES
          ('b1', 'SOL-USD', 'buy', 1, 100, 0, '2025-02-01Z'), ('s1', 'SOL-USD', 'sell', 1, 110, 0, '2025-02-02Z'),
          ('s2', 'SOL-USD', 'sell', 1, 120, 0, '2025-02-03Z')`);
        const env = { DATABASE_URL: own.url };
        const computed = await cli(['compute'], env)();
        if (computed.exit !== '0') return computed;
        const [item] = await own.query<{ review_id: string }>(`SELECT review_id::text FROM manual_review_queue WHERE item_key = 's2'`);
        return await cli(['review', 'resolve', item!.review_id, '--note', 'x', '--opening-balance', '--price', '90', '--time', '2025-01-15'], env)();
      } finally {
        await own.drop();
      }
    },
    'op-legacy-sort-unknown': cli(['legacy-compare', '--sort', 'ratio']),
    'op-dry-run-without-opening': cli(['review', 'resolve', '1', '--note', 'x', '--dry-run']),
  };
}
