/**
 * Accounts and transfers (issue 14): transfers the ledger's rules refuse (same account, size
 * not > 0, blank or invisible account names, unreal times), fills with a blank account, and the
 * CLI's account and pooling flags. An account nobody declared is fine: accounts are not declared.
 */
import type { CaseContext, Cases } from './context.ts';

export function cases({ sql, cli, file }: CaseContext): Cases {
  const transfer = (id: string, from: string, to: string, size: string, time = `'2025-01-02Z'`, symbol = `'SOL-USD'`) =>
    sql(`INSERT INTO trade_transfers (transfer_id, symbol, from_account, to_account, size, transfer_time)
         VALUES (${id}, ${symbol}, ${from}, ${to}, ${size}, ${time})`);
  const fills = () => file('accounts-fills.csv', 'entry_id,trade_id,order_id,trade_time,trade_type,price,size,commission,product_id,side\n');
  return {
    'transfer-same-account': transfer(`'x1'`, `'A'`, `'A'`, '1'),
    'transfer-size-zero': transfer(`'x1'`, `'A'`, `'B'`, '0'),
    'transfer-size-negative': transfer(`'x1'`, `'A'`, `'B'`, '-1'),
    'transfer-size-19-decimals': transfer(`'x1'`, `'A'`, `'B'`, '0.0000000000000000001'),
    'transfer-size-null': transfer(`'x1'`, `'A'`, `'B'`, 'NULL'),
    'transfer-from-empty': transfer(`'x1'`, `''`, `'B'`, '1'),
    'transfer-to-blank': transfer(`'x1'`, `'A'`, `'  '`, '1'),
    'transfer-account-tab': transfer(`'x1'`, `E'a\\tb'`, `'B'`, '1'),
    'transfer-account-edge-space': transfer(`'x1'`, `'A'`, `'B '`, '1'),
    'transfer-time-infinity': transfer(`'x1'`, `'A'`, `'B'`, '1', `'infinity'`),
    'transfer-time-bc': transfer(`'x1'`, `'A'`, `'B'`, '1', `'2025-01-01 00:00Z BC'`),
    'transfer-time-year-10000': transfer(`'x1'`, `'A'`, `'B'`, '1', `'10000-01-01 00:00Z'`),
    'transfer-symbol-lower-case': transfer(`'x1'`, `'A'`, `'B'`, '1', `'2025-01-02Z'`, `'sol-usd'`),
    'transfer-id-blank': transfer(`'  '`, `'A'`, `'B'`, '1'),
    'transfer-id-change': sql(`DO $$ BEGIN
        INSERT INTO trade_transfers (transfer_id, symbol, from_account, to_account, size, transfer_time)
        VALUES ('x1', 'SOL-USD', 'A', 'B', 1, '2025-01-02Z');
        UPDATE trade_transfers SET transfer_id = 'x2' WHERE transfer_id = 'x1';
      END $$`),
    'row-account-empty': sql(`INSERT INTO trade_records (order_id, symbol, side, size, price, order_time, account)
                              VALUES ('x', 'SOL-USD', 'buy', 1, 1, now(), '')`),
    'row-account-zero-width': sql(`INSERT INTO trade_records (order_id, symbol, side, size, price, order_time, account)
                                   VALUES ('x', 'SOL-USD', 'buy', 1, 1, now(), U&'a\\200B')`),
    'row-account-correction-blank': sql(`UPDATE trade_records SET account = ' ' WHERE order_id = 'keep-1'`),
    'cli-import-account-empty': async () => cli(['import', 'coinbase', fills(), '--account', ''])(),
    'cli-import-account-tab': async () => cli(['import', 'csv', fills(), '--map', 'order_id=a', '--account', 'a\tb'])(),
    'cli-export-account-space': cli(['export', 'lots', '--year', '2025', '--account', ' cold']),
    'cli-versions-pooling': cli(['versions', 'add', '--pooling', 'wallet']),
    'cli-versions-method': cli(['versions', 'add', '--method', 'lofo']),
    'cli-versions-taken': cli(['versions', 'add', '--number', '1']),
    'cli-reconcile-account-universal': async () =>
      cli(['reconcile', '--balances', file('accounts-balances.csv', 'asset,balance,as_of\nSOL,1,2025-02-01T00:00:00Z\n'), '--account', 'cold'])(),
    'cli-reconcile-account-twice': async () =>
      cli(['reconcile', '--balances', file('accounts-balances-2.csv', 'asset,account,balance,as_of\nSOL,a,1,2025-02-01T00:00:00Z\n'), '--account', 'cold'])(),
  };
}
