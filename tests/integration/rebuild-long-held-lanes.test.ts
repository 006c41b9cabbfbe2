/**
 * With K sessions, a full recompute judges long_held_lot items after its swap on K connections
 * (the symbols dealt round-robin, one as-of time). The items must be exactly those of the
 * one-connection judgement of every symbol, including a pending item of a symbol the run did
 * not compute (its trades gone), which the judgement of every symbol resolves.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateLedger } from '../../packages/cli/src/sample/ledger-generator.ts';
import { insertTrades } from '../../packages/cli/src/sample/load-ledger.ts';
import { runCompute } from '../../packages/cli/src/compute/run-compute.ts';
import { openClientSession } from '../../packages/cli/src/compute/client-session.ts';
import { urlAsOf } from '../helpers/as-of.ts';
import { createTestSchema, type TestSchema } from '../helpers/db.ts';

const items = (t: TestSchema, v: number) => t.query<{ symbol: string; status: string }>(
  `SELECT symbol, item_key, severity, status, resolved_by, details::text FROM manual_review_queue
    WHERE allocation_version = $1 AND issue_type = 'long_held_lot' ORDER BY 1, 2`, [v]);

describe('the long_held_lot judgement after a rebuild, over K connections', () => {
  let t: TestSchema;
  let url: string;
  let client: pg.Client;
  beforeAll(async () => {
    t = await createTestSchema();
    // judged months after the ledger: its open lots are long held
    url = urlAsOf(t.url, '2026-09-01T00:00Z');
    client = new pg.Client({ connectionString: url });
    await client.connect();
    await insertTrades(t.client, generateLedger({ trades: 4_000, symbols: 16, seed: 47, oversellRate: 0.01 }));
    await t.query(`INSERT INTO fifo_allocation_versions (allocation_version, method) VALUES (2, 'fifo')`);
    // a pending item of a symbol that has neither trades nor a snapshot, in both versions
    await t.query(`INSERT INTO manual_review_queue (allocation_version, symbol, order_id, issue_type, item_key, severity, details)
                   SELECT v, 'GONE-USD', 'gone-1', 'long_held_lot', 'gone-1', 'medium', '{}' FROM unnest(ARRAY[1, 2]) v`);
  }, 120_000);
  afterAll(async () => {
    await client.end();
    await t.drop();
  });

  it('raises and resolves the items the one-connection judgement does', async () => {
    // version 2: one session, the judgement of every symbol on the run's connection
    const one = await openClientSession(url);
    try {
      expect((await runCompute(client, one, { version: 2, symbols: null, force: true, batchTrades: 500 })).status).toBe('success');
    } finally {
      await one.close();
    }
    // version 1: two sessions, the judgement dealt over two connections
    const sessions = [await openClientSession(url), await openClientSession(url)];
    let opened = 0;
    const connect = async () => {
      opened++;
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      return c;
    };
    try {
      const r = await runCompute(client, sessions, { version: 1, symbols: null, force: true, batchTrades: 500, connect });
      expect(r.status).toBe('success');
    } finally {
      await Promise.all(sessions.map((s) => s.close()));
    }
    expect(opened).toBe(1);
    const v1 = await items(t, 1);
    expect(v1.filter((r) => r.status === 'pending').length).toBeGreaterThan(5);
    expect(v1.find((r) => r.symbol === 'GONE-USD')?.status).toBe('resolved');
    expect(v1).toEqual(await items(t, 2));
  }, 120_000);
});
