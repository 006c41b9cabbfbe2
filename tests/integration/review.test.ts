/** `fifo review`: list, show, resolve (with an opening-balance buy) and ignore. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reviewCommand } from '../../packages/cli/src/commands/review.ts';
import { CliError } from '../../packages/cli/src/errors.ts';
import { runFifo } from '../helpers/cli.ts';
import { createTestSchema, type TestSchema } from '../helpers/db.ts';

describe('fifo review', () => {
  let t: TestSchema;
  let env: Record<string, string>;
  const ids: Record<string, string> = {};
  beforeAll(async () => {
    t = await createTestSchema();
    env = { DATABASE_URL: t.url };
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time) VALUES
      ('sol-b1', 'SOL-USD', 'buy',  1, 100, 0.1, '2025-02-01 10:00Z'),
      ('sol-s1', 'SOL-USD', 'sell', 3, 110, 0.3, '2025-02-02 10:00Z'),
      ('eth-s1', 'ETH-USD', 'sell', 1, 3000, 3,  '2025-02-03 10:00Z')`);
    expect((await runFifo(['compute'], env)).code).toBe(0);
    for (const r of await t.query<{ review_id: string; order_id: string }>('SELECT review_id::text, order_id FROM manual_review_queue')) {
      ids[r.order_id] = r.review_id;
    }
    // a balance-drift item, as `fifo reconcile` writes them
    const [drift] = await t.query<{ review_id: string }>(
      `INSERT INTO manual_review_queue (allocation_version, symbol, issue_type, item_key, severity, details)
       VALUES (1, 'BTC-USD', 'ledger_drift', 'asof:2025-03-01T00:00:00Z', 'high',
               '{"asset": "BTC", "as_of": "2025-03-01T00:00:00Z", "exchange_balance": "0.5", "ledger_open_size": "0", "drift": "0.5"}')
       RETURNING review_id::text`);
    ids.drift = drift!.review_id;
  });
  afterAll(() => t.drop());

  it('lists pending items, most severe first, with filters and JSON', async () => {
    const r = await runFifo(['review', 'list'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/critical\s+pending\s+unmatched_sell\s+ETH-USD\s+eth-s1\s+sold 1, only 0 held: 1 unmatched/);
    expect(r.stdout).toMatch(/high\s+pending\s+unmatched_sell\s+SOL-USD\s+sol-s1\s+sold 3, only 1 held: 2 unmatched/);
    expect(r.stdout).toMatch(/ledger_drift\s+BTC-USD\s+asof:2025-03-01T00:00:00Z\s+exchange 0.5 vs ledger 0 of BTC/);
    expect(r.stdout).toMatch(/3 item\(s\)/);
    const json = JSON.parse((await runFifo(['review', 'list', '--type', 'unmatched_sell', '--symbol', 'SOL-USD', '--json'], env)).stdout);
    expect(json.total).toBe(1);
    expect(json.items[0]).toMatchObject({ order_id: 'sol-s1', status: 'pending', details: { unmatched: '2' } });
    expect((await runFifo(['review', 'list', '--status', 'resolved'], env)).stdout).toMatch(/no resolved review items in version 1/);
  });

  it('shows one item with its sell, its allocations and how to resolve it', async () => {
    const r = await runFifo(['review', 'show', ids['sol-s1']!], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/issue_type\s+unmatched_sell/);
    expect(r.stdout).toMatch(/sell:\n[\s\S]*order_id\s+sol-s1/);
    expect(r.stdout).toMatch(/allocations in version 1:[\s\S]*sol-b1[\s\S]*219.8/);
    expect(r.stdout).toMatch(/fifo review resolve \d+ --note "\.\.\." --opening-balance --price P/);
  });

  it('rejects bad input with exit 2 naming it, and writes nothing', async () => {
    const before = await t.query(`SELECT (SELECT count(*) FROM trade_records) AS facts, (SELECT count(*) FROM trade_records_audit) AS audit,
                                         (SELECT string_agg(status, ',' ORDER BY review_id) FROM manual_review_queue) AS statuses`);
    const sol = ids['sol-s1']!;
    // input checks that need no database: in-process (each throws the CliError main prints, exit 2)
    const local = [
      [['resolve', sol], /--note TEXT is required/],
      [['resolve', sol, '--note', '  '], /--note TEXT is required/],
      [['resolve', 'abc', '--note', 'x'], /review ID must be a positive integer, got "abc"/],
      [['resolve', sol, '--note', 'x', '--opening-balance'], /--opening-balance needs --price P/],
      [['resolve', sol, '--note', 'x', '--opening-balance', '--price', '0'], /--price "0" must be greater than 0/],
      [['resolve', sol, '--note', 'x', '--price', '90'], /--price goes with --opening-balance/],
      [['ignore', sol, '--note', 'x', '--price', '1'], /--price does not apply to `fifo review ignore`/],
      [['list', '--status', 'open'], /--status must be pending, resolved, ignored or all, got "open"/],
      [['approve', sol], /unknown subcommand "approve": list, show, resolve or ignore/],
    ] as const;
    for (const [args, message] of local) {
      const err = await reviewCommand(args).then(() => null, (e: unknown) => e);
      expect(err, args.join(' ')).toBeInstanceOf(CliError);
      expect((err as CliError).exitCode).toBe(2);
      expect((err as CliError).message).toMatch(message);
    }
    // through the real CLI, against the database
    const cases = [
      [['review', 'resolve', '999999', '--note', 'x'], /review 999999: no such review item/],
      [['review', 'resolve', sol, '--note', 'x', '--opening-balance', '--price', '9O'], /--price "9O" is not a decimal number/],
      [['review', 'resolve', sol, '--note', 'x', '--opening-balance', '--price', '90', '--time', '2025-02-03'], /--time 2025-02-03T00:00:00.000Z is after the sell \(2025-02-02T10:00:00.000Z\)/],
      [['review', 'resolve', ids.drift!, '--note', 'x', '--opening-balance', '--price', '90'], /--opening-balance applies to unmatched_sell items, this one is ledger_drift/],
    ] as const;
    const results = await Promise.all(cases.map(([args]) => runFifo(args, env)));
    results.forEach((r, i) => {
      expect(r.code, `${cases[i]![0].join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(cases[i]![1]);
    });
    expect(await t.query(`SELECT (SELECT count(*) FROM trade_records) AS facts, (SELECT count(*) FROM trade_records_audit) AS audit,
                                 (SELECT string_agg(status, ',' ORDER BY review_id) FROM manual_review_queue) AS statuses`)).toEqual(before);
  });

  it('resolves an unmatched sell with an audited opening-balance buy that the recompute matches', async () => {
    const sol = ids['sol-s1']!;
    const r = await runFifo(['review', 'resolve', sol, '--note', 'deposit from Kraken, bought there at 90', '--opening-balance', '--price', '90'], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`review ${sol} resolved by \\w+: deposit from Kraken, bought there at 90`));
    expect(r.stdout).toMatch(/opening balance: buy 2 SOL-USD @ 90 at 2025-02-02T09:59:59.999Z as opening-sol-s1/);
    expect(r.stdout).toMatch(/sell sol-s1 is fully matched/);
    expect(await t.query(`SELECT order_id, side, size::text, price::text, total_fees_usd::text AS fee, source, trigger,
                                 order_time = '2025-02-02 10:00Z'::timestamptz - interval '1 microsecond' AS just_before
                            FROM trade_records WHERE order_id = 'opening-sol-s1'`)).toEqual([
      { order_id: 'opening-sol-s1', side: 'buy', size: '2', price: '90', fee: '0', source: 'manual-adjustment', trigger: 'opening-balance', just_before: true },
    ]);
    expect(await t.query(`SELECT operation FROM trade_records_audit WHERE order_id = 'opening-sol-s1'`)).toEqual([{ operation: 'INSERT' }]);
    expect(await t.query(`SELECT status, resolved_by = current_user AS by_me, resolution_note, details->'opening_balance'->>'size' AS size
                            FROM manual_review_queue WHERE review_id = $1`, [sol])).toEqual([
      { status: 'resolved', by_me: true, resolution_note: 'deposit from Kraken, bought there at 90', size: '2' },
    ]);
    // 3 @ 110 − 0.3 against 1 @ 100 + 0.1 and 2 @ 90
    expect(await t.query(`SELECT realized_pnl_usd::text AS pnl, unmatched_size::text AS unmatched FROM v_trade_pnl WHERE sell_order_id = 'sol-s1'`))
      .toEqual([{ pnl: '49.6', unmatched: '0' }]);
    const again = await runFifo(['review', 'resolve', sol, '--note', 'again'], env);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(new RegExp(`review ${sol} is already resolved \\(by \\w+ at .*: "deposit from Kraken, bought there at 90"\\); closed items are never reopened`));
  });

  it('ignores an item with a note; a forced recompute does not reopen it', async () => {
    const eth = ids['eth-s1']!;
    const r = await runFifo(['review', 'ignore', eth, '--note', 'test trade on a sandbox account'], env);
    expect(r.code).toBe(0);
    expect((await runFifo(['compute', '--force'], env)).code).toBe(0);
    expect(await t.query(`SELECT order_id, status, resolution_note FROM manual_review_queue WHERE issue_type = 'unmatched_sell' ORDER BY order_id`)).toEqual([
      { order_id: 'eth-s1', status: 'ignored', resolution_note: 'test trade on a sandbox account' },
      { order_id: 'sol-s1', status: 'resolved', resolution_note: 'deposit from Kraken, bought there at 90' },
    ]);
    const all = await runFifo(['review', 'list', '--status', 'all'], env);
    expect(all.stdout).toMatch(/ignored\s+unmatched_sell\s+ETH-USD/);
  });
});

describe('fifo review resolve --opening-balance: what it moves, said before it is written (issue 15)', () => {
  let t: TestSchema;
  let env: Record<string, string>;
  let id = '';
  const state = () => t.query(`SELECT (SELECT count(*)::int FROM trade_records) AS facts, (SELECT count(*)::int FROM trade_records_audit) AS audit,
                                      (SELECT string_agg(status, ',' ORDER BY review_id) FROM manual_review_queue) AS statuses,
                                      (SELECT count(*)::int FROM fifo_dirty_symbols) AS dirty,
                                      (SELECT md5(string_agg(sell_order_id || coalesce(buy_order_id, '-') || allocated_size, ',' ORDER BY sell_order_id, allocation_seq))
                                         FROM fifo_allocations) AS allocations`);
  beforeAll(async () => {
    t = await createTestSchema();
    env = { DATABASE_URL: t.url };
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time) VALUES
      ('b1', 'SOL-USD', 'buy',  1, 100, 0, '2025-02-01Z'),
      ('s1', 'SOL-USD', 'sell', 1, 110, 0, '2025-02-02Z'),
      ('b2', 'SOL-USD', 'buy',  1, 120, 0, '2025-02-03Z'),
      ('s2', 'SOL-USD', 'sell', 1, 130, 0, '2025-02-04Z'),
      ('s3', 'SOL-USD', 'sell', 2, 140, 0, '2025-02-05Z')`);
    expect((await runFifo(['compute'], env)).code).toBe(0);
    [{ review_id: id }] = await t.query<{ review_id: string }>(`SELECT review_id::text FROM manual_review_queue WHERE item_key = 's3'`) as [{ review_id: string }];
  });
  afterAll(() => t.drop());

  // dated before s1 and s2, the lot is what FIFO sells first: s1 and s2 are re-matched to it
  const resolve = (...more: string[]) =>
    runFifo(['review', 'resolve', id, '--note', 'deposit', '--opening-balance', '--price', '90', '--time', '2025-01-15', ...more], env);
  const moved = (verb: 'would move' | 'moved', be: 'would be' | 'were') => new RegExp(
    `2 other sell\\(s\\) of SOL-USD ${be} re-matched, their PnL ${verb} by \\+40(\\.0+)? USD; sell s3's PnL ${verb} by \\+60(\\.0+)? USD; SOL-USD in total by \\+100(\\.0+)? USD`);

  it('without --yes: says how many other sells and how much PnL it would move, exits 2, writes nothing', async () => {
    const before = await state();
    const r = await resolve();
    expect(r.code, r.stderr).toBe(2);
    // before: "sell s3 is fully matched" and nothing about s1 and s2
    expect(r.stderr).toMatch(moved('would move', 'would be'));
    expect(r.stderr).toMatch(/pass --yes to write it \(--dry-run shows this without writing\); nothing written/);
    expect(await state()).toEqual(before);
  });

  it('--dry-run shows the same and writes nothing', async () => {
    const before = await state();
    const r = await resolve('--dry-run');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/opening balance opening-s3: buy 2 SOL-USD @ 90: /);
    expect(r.stdout).toMatch(moved('would move', 'would be'));
    expect(r.stdout).toMatch(new RegExp(`dry run: nothing written, review ${id} stays pending`));
    const json = JSON.parse((await resolve('--dry-run', '--json')).stdout);
    expect(json.preview).toMatchObject({ quote: 'USD', other_sells: 2 });
    expect(await state()).toEqual(before);
  });

  it('--yes writes it and prints the change after the recompute', async () => {
    const r = await resolve('--yes');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/sell s3 is fully matched/);
    expect(r.stdout).toMatch(new RegExp(`\\nchange: ${moved('moved', 'were').source}`));
    // s1 and s2 now sell the opening lot at 90; s3 sells b1 and b2
    expect(await t.query(`SELECT sell_order_id, realized_pnl_usd::numeric::text AS pnl FROM v_trade_pnl ORDER BY sell_order_id`)).toEqual([
      { sell_order_id: 's1', pnl: '20' }, { sell_order_id: 's2', pnl: '40' }, { sell_order_id: 's3', pnl: '60' },
    ]);
  });

  it('--yes and --dry-run go with --opening-balance', async () => {
    const err = await reviewCommand(['resolve', id, '--note', 'x', '--dry-run']).then(() => null, (e: unknown) => e);
    expect((err as CliError).message).toMatch(/--dry-run goes with --opening-balance/);
  });
});
