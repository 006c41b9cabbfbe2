/**
 * What a one-shot `fifo compute --incremental` pays before its first procedure runs (issue 12):
 * the Node host's first call resolves every type name of the served signatures in one round
 * trip (not one each), a name that does not resolve still fails only its own procedure, and a
 * host started early (main.ts) is the one the command's prewarm gets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Plv8Error, Plv8Host, type GeneratedProcedure } from '../../packages/plv8/src/index.ts';
import { prewarmMainThreadHost } from '../../packages/cli/src/compute/client-session.ts';
import { createTestSchema, type TestSchema } from '../helpers/db.ts';

const proc = (name: string, args: Array<[string, string]>, returns: string, body: string): GeneratedProcedure => ({
  name, args, returns, setof: false, strict: false, volatility: 'VOLATILE', bundleId: 'host-startup-test', body,
});

/** Five distinct argument types and a sixth as the result, like fifo_compute's. */
const WIDE = proc('hs_wide', [['v', 'int'], ['names', 'text[]'], ['mode', 'text'], ['n', 'bigint'], ['doc', 'jsonb']], 'numeric',
  'return String(v + names.length + mode.length + Number(n) + doc.k);');
const SAME = proc('hs_same', [['v', 'int'], ['names', 'text[]']], 'numeric', 'return String(v + names.length);');
const BROKEN = proc('hs_broken', [['v', 'no_such_type_hs']], 'int', 'return 1;');

let t: TestSchema;

beforeAll(async () => {
  t = await createTestSchema({ migrated: false, prefix: 'hstart' });
});

afterAll(async () => {
  await t?.drop();
});

describe('the first call of a host', () => {
  it('resolves the type names of every served signature in one round trip', async () => {
    const host = await Plv8Host.open({ connectionString: t.url, procedures: [WIDE, SAME] });
    try {
      const before = host.requests;
      expect(host.call('hs_wide', [1, ['a', 'b'], 'xyz', 4n, { k: 5 }])).toBe(15);
      // the types (one), the arguments through their input functions (one), the result (one)
      expect(host.requests - before).toBe(3);
      const second = host.requests;
      expect(host.call('hs_same', [1, ['a']])).toBe(2);
      expect(host.requests - second).toBe(2); // its types were resolved with the first
      host.commit();
    } finally {
      await host.close();
    }
  });

  it('a type that does not resolve fails only the procedure that declares it, with the server error', async () => {
    const host = await Plv8Host.open({ connectionString: t.url, procedures: [BROKEN, SAME] });
    try {
      expect(host.call('hs_same', [2, ['a', 'b']])).toBe(4);
      host.commit();
      host.begin();
      let err: unknown;
      try {
        host.call('hs_broken', [1]);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(Plv8Error);
      expect((err as Plv8Error).message).toMatch(/type "no_such_type_hs" does not exist/);
      host.begin();
      expect(host.call('hs_same', [3, []])).toBe(3); // the session goes on
      host.commit();
    } finally {
      await host.close();
    }
  });
});

describe('a database thread started early', () => {
  it('is taken by the next host, which gets its own session and works', async () => {
    Plv8Host.startEarly();
    const host = await Plv8Host.open({ connectionString: t.url, procedures: [SAME], applicationName: 'fifo-ledger host-startup test' });
    try {
      expect(host.call('hs_same', [5, ['a']])).toBe(6);
      const rows = host.execute(`SELECT current_setting('application_name') AS app, current_setting('DateStyle') AS ds`) as Array<Record<string, unknown>>;
      expect(rows[0]).toEqual({ app: 'fifo-ledger host-startup test', ds: 'ISO, MDY' });
      host.commit();
    } finally {
      await host.close();
    }
  });

  it('an untaken one is discarded, and the next host starts its own', async () => {
    Plv8Host.startEarly();
    await Plv8Host.discardEarly();
    const host = await Plv8Host.open({ connectionString: t.url, procedures: [SAME] });
    try {
      expect(host.call('hs_same', [1, []])).toBe(1);
      host.commit();
    } finally {
      await host.close();
    }
  });

  it('a failed connection of a host on an early thread is reported as without one', async () => {
    Plv8Host.startEarly();
    const u = new URL(t.url);
    u.port = '1';
    await expect(Plv8Host.open({ connectionString: u.toString(), procedures: [SAME] })).rejects.toThrow(/PLV8 host cannot connect/);
  });
});

describe('a host started early', () => {
  it('is the host the command prewarms again: one start, one closer', async () => {
    const early = prewarmMainThreadHost(t.url);
    const again = prewarmMainThreadHost(t.url);
    expect(again).toBe(early);
    await again();
    await early(); // closed once; the second close is a no-op
    const fresh = prewarmMainThreadHost(t.url);
    expect(fresh).not.toBe(early); // a closed one is not handed out again
    await fresh();
  });
});
