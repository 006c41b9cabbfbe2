/**
 * The Node host's cursor read-ahead (packages/plv8/src/host/cursor.ts) end to end: fifo_compute
 * over ledgers whose symbol, batch and 5,000-row fetch boundaries coincide (a cursor ending
 * exactly at a full fetch, the case where a read ahead comes back empty) must process every
 * trade and write the same rows with reading ahead as without; full (named symbols), rebuild
 * (every symbol) and incremental (the tradesFrom cursor), one and two sessions (threads), and
 * symbols read in parts inside a subtransaction (BatchRun.big).
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProcedures, Plv8Host } from '../../packages/plv8/src/index.ts';
import { runCompute } from '../../packages/cli/src/compute/run-compute.ts';
import { openClientSession } from '../../packages/cli/src/compute/client-session.ts';
import { allocationChecksum } from '../helpers/allocations.ts';
import { createTestSchema, type TestSchema } from '../helpers/db.ts';
import { inBoth, onBoth, runBody as runBodyIn } from '../helpers/read-ahead.ts';

/** 12 symbols of exactly 2,500 trades: two symbols are one fetch, ten are the procedure's batch. */
const SYMBOLS = 12;
const PER_SYMBOL = 2_500;
const TOTAL = SYMBOLS * PER_SYMBOL;
const symbolOf = (i: number) => `S${String(i).padStart(2, '0')}-USD`;
const ALL = Array.from({ length: SYMBOLS }, (_, i) => symbolOf(i + 1));

let t: TestSchema;

function tradesSql(symbols: string, from: number, to: number): string {
  return `INSERT INTO trade_records (order_id, symbol, side, size, price, order_time)
          SELECT s || ':' || g, s, CASE WHEN g % 3 = 0 THEN 'sell' ELSE 'buy' END, 1 + g % 5, 10 + g % 17,
                 timestamptz '2024-01-01 00:00:00Z' + g * interval '1 second'
            FROM unnest(${symbols}::text[]) s, generate_series(${from}, ${to}) g`;
}

type Mode = 'full' | 'rebuild' | 'incremental';

async function compute(prefetch: 'off' | 'on', sessions: number, mode: Mode, batchTrades?: number, sessionSql: string[] = [],
                       { version = 1, placement = 'auto' }: { version?: number; placement?: 'auto' | 'main' } = {}) {
  const saved = process.env.FIFO_HOST_PREFETCH;
  process.env.FIFO_HOST_PREFETCH = prefetch; // read when each session's host opens (threads copy the env)
  const open = await Promise.all(Array.from({ length: sessions }, () => openClientSession(t.url, { sessionSql, placement })));
  try {
    const r = await runCompute(t.client, open, {
      version, symbols: mode === 'full' ? ALL : null, force: mode !== 'incremental', incremental: mode === 'incremental',
      ...(batchTrades ? { batchTrades } : {}),
    });
    expect(r.status).toBe('success');
    expect(r.symbolsFailed).toBe(0);
    return { trades: r.tradesProcessed, allocations: r.allocationsWritten, sum: await allocationChecksum(t, version) };
  } finally {
    await Promise.all(open.map((s) => s.close()));
    if (saved === undefined) delete process.env.FIFO_HOST_PREFETCH;
    else process.env.FIFO_HOST_PREFETCH = saved;
  }
}

beforeAll(async () => {
  t = await createTestSchema();
  await t.query(tradesSql(`ARRAY[${ALL.map((s) => `'${s}'`).join(',')}]`, 1, PER_SYMBOL));
}, 120_000);

afterAll(() => t?.drop());

describe('fifo_compute on the Node host reads every trade with reading ahead, at exact fetch boundaries', () => {
  it('full and rebuild, one and two sessions, call batches of 10,000 and 25,000 trades', async () => {
    const want = await compute('off', 1, 'rebuild');
    expect(want.trades).toBe(TOTAL);
    for (const sessions of [1, 2]) {
      for (const batch of [10_000, undefined]) {
        for (const mode of ['full', 'rebuild'] as const) {
          const got = await compute('on', sessions, mode, batch);
          expect({ sessions, batch, mode, ...got }).toEqual({ sessions, batch, mode, ...want });
        }
      }
    }
  }, 240_000);

  it('the host in the main thread, and per_account pooling (trades and transfers in one cursor)', async () => {
    const want = await compute('off', 1, 'full', undefined, [], { placement: 'main' });
    expect(want.trades).toBe(TOTAL);
    expect(await compute('on', 1, 'full', undefined, [], { placement: 'main' })).toEqual(want);
    expect(await compute('on', 2, 'full', 10_000, [], { placement: 'main' })).toEqual(want);
    await t.query(`INSERT INTO fifo_allocation_versions (allocation_version, method, pooling) VALUES (2, 'hifo', 'per_account')`);
    const perAccount = await compute('off', 1, 'rebuild', undefined, [], { version: 2 });
    expect(perAccount.trades).toBe(TOTAL);
    expect(await compute('on', 1, 'rebuild', undefined, [], { version: 2 })).toEqual(perAccount);
    expect(await compute('on', 2, 'full', 10_000, [], { version: 2 })).toEqual(perAccount);
  }, 240_000);

  it('symbols read in parts inside a subtransaction (part of 1,000 trades)', async () => {
    const part = ["SET fifo.compute_part_trades = '1000'"];
    const want = await compute('off', 1, 'full', 10_000, part);
    expect(want.trades).toBe(TOTAL);
    expect(await compute('on', 1, 'full', 10_000, part)).toEqual(want);
    expect(await compute('on', 2, 'rebuild', undefined, part)).toEqual(want);
  }, 240_000);

  it('incremental: the tradesFrom cursor ends exactly at full fetches', async () => {
    // two symbols get 4,999 trades after their watermark: 5,000 rows each from the watermark on
    const grown = `ARRAY['S01-USD','S02-USD']`;
    const runs: Array<Awaited<ReturnType<typeof compute>>> = [];
    for (const prefetch of ['off', 'on'] as const) {
      await t.query(`DELETE FROM trade_records WHERE split_part(order_id, ':', 2)::int > ${PER_SYMBOL}`);
      await compute('off', 1, 'rebuild');
      await t.query(tradesSql(grown, PER_SYMBOL + 1, PER_SYMBOL + 4_999));
      runs.push(await compute(prefetch, 1, 'incremental'));
    }
    expect(runs[0]!.trades).toBeGreaterThanOrEqual(2 * 4_999);
    expect(runs[1]).toEqual(runs[0]);
    // and the same rows as computing the grown ledger from scratch
    const scratch = await compute('off', 1, 'rebuild');
    expect(scratch.trades).toBe(TOTAL + 2 * 4_999);
    expect(runs[1]!.sum).toEqual(scratch.sum);
  }, 240_000);
});

describe('the real bundle on a host reads ahead (so the runs above compared something)', () => {
  it('fifo_compute on a host with prefetchRows 256 reads ahead and processes every trade', async () => {
    const counts: number[] = [];
    const results: unknown[] = [];
    for (const prefetchRows of [256, 0]) {
      const h = await Plv8Host.open({ connectionString: t.url, begin: false, prefetchRows });
      try {
        h.begin();
        const r = h.call<{ tradesProcessed: number; allocationsWritten: number }>('fifo_compute', [1, ALL, 'full', null]);
        h.rollback();
        results.push({ trades: r.tradesProcessed, allocations: r.allocationsWritten });
        counts.push(h.readAheads);
      } finally {
        await h.close();
      }
    }
    expect(results[0]).toEqual(results[1]);
    const n = (await t.query<{ n: number }>('SELECT count(*)::int AS n FROM trade_records'))[0]!.n;
    expect((results[0] as { trades: number }).trades).toBe(n);
    // 30,000 trades in 5,000-row fetches: at least one chunk read ahead per fetch after the first
    expect(counts[0]).toBeGreaterThanOrEqual(5);
    expect(counts[1]).toBe(0);
  }, 120_000);
});

describe('adversarial cursor sequences, with and without reading ahead', () => {
  const fixtureEntry = fileURLToPath(new URL('../../packages/plv8/test/fixtures/procedures.ts', import.meta.url));
  const N = 20_000;
  const SRC = 'SELECT id, v FROM pfa_src ORDER BY id';
  const REV = 'SELECT id, v FROM pfa_src ORDER BY id DESC';
  let on: Plv8Host;
  let off: Plv8Host;
  const PRELUDE = `
    const ids = (rows) => rows === undefined ? null : Array.isArray(rows) ? rows.map((r) => r.id) : rows.id;
    const drain = (c, n) => { const out = []; for (;;) { const r = c.fetch(n); if (r === undefined) break; for (const x of r) out.push(x.id); if (r.length < n) break; } return out; };
    const attempt = (f) => { try { return { ok: f() }; } catch (e) { return { error: String(e.message).replace(/plv8_ctx_cursor_\\d+/g, 'C'), code: e.sqlerrcode === undefined ? null : e.sqlerrcode }; } };`;
  const runBody = (h: Plv8Host, body: string): unknown => runBodyIn(h, PRELUDE, body);
  const both = (body: string) => onBoth(on, off, PRELUDE, body);
  const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);

  beforeAll(async () => {
    await t.query(`CREATE TABLE pfa_src (id int PRIMARY KEY, v text NOT NULL);
                   INSERT INTO pfa_src SELECT g, 'v' || g FROM generate_series(1, ${N}) g; ANALYZE pfa_src;`);
    const procs = (await buildProcedures({ entry: fixtureEntry })).procedures;
    on = await Plv8Host.open({ connectionString: t.url, procedures: procs, begin: false, prefetchRows: 256 });
    off = await Plv8Host.open({ connectionString: t.url, procedures: procs, begin: false, prefetchRows: 0 });
  }, 60_000);
  afterAll(async () => {
    await on?.close();
    await off?.close();
  });

  it('two cursors with reads in flight at once, one closed in flight, a new one opened after', () => {
    const { value, readAheads } = both(`
      const a = plv8.prepare(${JSON.stringify(SRC)}).cursor();
      const b = plv8.prepare(${JSON.stringify(REV)}).cursor();
      const out = [];
      out.push(ids(a.fetch(5000)).slice(-1), ids(b.fetch(5000)).slice(-1));
      out.push(ids(a.fetch(5000)).slice(-1), ids(b.fetch(5000)).slice(-1));
      a.close(); // its next chunk is in flight
      const c = plv8.prepare(${JSON.stringify(SRC)}).cursor();
      out.push(ids(c.fetch(5000)).slice(-1), ids(b.fetch(5000)).slice(-1));
      out.push(drain(c, 5000).length, drain(b, 5000).length);
      return out;`);
    expect(value).toEqual([[5000], [15001], [10000], [10001], [5000], [5001], N - 5000, 5000]);
    expect(readAheads).toBeGreaterThanOrEqual(6);
  });

  it('exact multiples: a cursor of 20,000 rows in 5,000s and of 2,560 rows in 256s ends with nothing lost', () => {
    const { value, readAheads } = both(`
      const d = drain(plv8.prepare(${JSON.stringify(SRC)}).cursor(), 5000);
      const e = drain(plv8.prepare('SELECT id FROM pfa_src WHERE id <= 2560 ORDER BY id').cursor(), 256);
      const f = drain(plv8.prepare('SELECT id FROM pfa_src WHERE id % 2 = 0 ORDER BY id').cursor(), 5000);
      return [d.length, d[0], d[d.length - 1], new Set(d).size, e.length, e[e.length - 1], f.length, f[f.length - 1]];`);
    expect(value).toEqual([N, 1, N, N, 2560, 2560, N / 2, N]);
    expect(readAheads).toBeGreaterThanOrEqual(10);
  });

  it('a failing write retried in subtransactions while a chunk is read ahead (flush), reads inside a subtransaction (big)', () => {
    const { value, readAheads } = both(`
      plv8.execute('CREATE TEMP TABLE pfa_out (id int PRIMARY KEY)');
      const c = plv8.prepare(${JSON.stringify(SRC)}).cursor();
      const out = [];
      let seen = 0;
      for (let i = 0; ; i++) {
        const rows = plv8.subtransaction(() => c.fetch(5000)); // read (and read ahead) inside
        if (rows === undefined) break;
        seen += rows.length;
        // a batch write that fails on its last row, then each row in a subtransaction of its own
        const batch = rows.map((r) => r.id).concat([rows[0].id]);
        const r = attempt(() => plv8.subtransaction(() => plv8.execute('INSERT INTO pfa_out SELECT unnest($1::int[])', [batch])));
        out.push(r.code);
        let ok = 0;
        for (const id of [rows[0].id, rows[1].id, rows[0].id]) {
          if (attempt(() => plv8.subtransaction(() => plv8.execute('INSERT INTO pfa_out VALUES ($1)', [id]))).ok !== undefined) ok++;
        }
        out.push(ok);
        // a subtransaction that reads ahead then fails
        out.push(attempt(() => plv8.subtransaction(() => { if (c.fetch(1) !== undefined) seen += 1; throw new Error('undo'); })).error);
        if (rows.length < 5000) break;
      }
      out.push(seen, plv8.execute('SELECT count(*)::int AS n FROM pfa_out')[0].n);
      return out;`);
    // 20,000 rows: 4 full fetches of 5,000 each, each followed by one row fetched in a failed subtransaction
    expect(value.slice(-2)).toEqual([N, 8]);
    expect(readAheads).toBeGreaterThanOrEqual(3);
  });

  it('a cursor left with a read in flight at the end of a call, the next calls of the same transaction', () => {
    const { value: a, readAheads } = inBoth(on, off, (h) => {
      const a = runBody(h, `globalThis.pfaStash = plv8.prepare(${JSON.stringify(SRC)}).cursor(); return ids(pfaStash.fetch(5000)).slice(-1);`);
      const b = runBody(h, `const c = plv8.prepare(${JSON.stringify(SRC)}).cursor(); return [ids(c.fetch(5000)).slice(-1), drain(c, 5000).length];`);
      const c = runBody(h, `const r = drain(pfaStash, 5000); return [r.length, r[0], r[r.length - 1]];`);
      return [a, b, c];
    });
    expect(readAheads).toBeGreaterThanOrEqual(4);
    expect(a).toEqual([[5000], [[5000], N - 5000], [N - 5000, 5001, N]]);
  });

  it("the host's own realm and the procedure's realm, each with a read in flight", () => {
    const { value: a, readAheads } = inBoth(on, off, (h) => {
      const mine = h.plv8.prepare(SRC).cursor();
      const first = (mine.fetch(5000) as Array<{ id: number }>).length;
      const theirs = runBody(h, `globalThis.pfaR = plv8.prepare(${JSON.stringify(REV)}).cursor(); return ids(pfaR.fetch(5000)).slice(-1);`);
      const second = (mine.fetch(5000) as Array<{ id: number }>).map((r) => r.id);
      const rest = runBody(h, `const r = drain(pfaR, 5000); return [r.length, r[0]];`);
      return [first, theirs, second[0], second[second.length - 1], rest];
    });
    expect(readAheads).toBeGreaterThanOrEqual(3);
    expect(a).toEqual([5000, [15001], 5001, 10000, [N - 5000, 15000]]);
  });
});

describe('random cursor walks, reading ahead from one row on, equal those without', () => {
  let on1: Plv8Host;
  let off0: Plv8Host;
  beforeAll(async () => {
    await t.query('CREATE TABLE pfa_fz (id int PRIMARY KEY); INSERT INTO pfa_fz SELECT generate_series(1, 60); ANALYZE pfa_fz;');
    const procs = (await buildProcedures({ entry: fileURLToPath(new URL('../../packages/plv8/test/fixtures/procedures.ts', import.meta.url)) })).procedures;
    on1 = await Plv8Host.open({ connectionString: t.url, procedures: procs, begin: false, prefetchRows: 1 });
    off0 = await Plv8Host.open({ connectionString: t.url, procedures: procs, begin: false, prefetchRows: 0 });
  }, 60_000);
  afterAll(async () => {
    await on1?.close();
    await off0?.close();
  });

  /** A seeded LCG: the walks are the same at every run. */
  const lcg = (seed: number) => {
    let s = seed >>> 0;
    return () => {
      s = (s * 1664525 + 1013904223) >>> 0;
      return s / 2 ** 32;
    };
  };

  it('fetch(k), fetch(), move(k), backward, fetch(0), move(0), reads in a failed subtransaction, two cursors, a failing row', () => {
    const before = on1.readAheads;
    for (let seed = 1; seed <= 150; seed++) {
      // even seeds only forward; every third a query failing at row 41 (then only forward: a
      // backward move before the failing row is reached is a documented difference)
      const forwardOnly = seed % 2 === 0 || seed % 3 === 0;
      const r = lcg(seed);
      const ops: Array<[string, number, number]> = [];
      for (let i = 0; i < 40; i++) {
        const x = forwardOnly ? r() * 0.72 : r();
        const y = r();
        const z = forwardOnly && y > 0.85 ? (y > 0.93 ? 0.97 : 0.94) : x;
        const k = [1, 2, 3, 5, 7, 13, 20, 60, 61][Math.floor(r() * 9)]!;
        const op = z < 0.45 ? 'f' : z < 0.6 ? 'f1' : z < 0.72 ? 'm' : z < 0.82 ? 'fb' : z < 0.87 ? 'f0' : z < 0.92 ? 'mb' : z < 0.96 ? 'm0' : 'sub';
        ops.push([op, k, Math.floor(r() * 2)]);
      }
      const sql = seed % 3 === 0 ? 'SELECT id, 1 / (id - 41) AS x FROM pfa_fz ORDER BY id' : 'SELECT id FROM pfa_fz ORDER BY id';
      const body = `
        const plan = plv8.prepare(${JSON.stringify(sql)});
        const cs = [plan.cursor(), plan.cursor()];
        const out = [];
        const ids = (rows) => rows === undefined ? null : Array.isArray(rows) ? rows.map((r) => r.id) : rows.id;
        const at = (f) => { try { return f(); } catch (e) { return 'E:' + e.message.replace(/plv8_ctx_cursor_\\d+/g, 'C'); } };
        for (const [op, k, ci] of ${JSON.stringify(ops)}) {
          const c = cs[ci];
          if (op === 'f') out.push(at(() => ids(c.fetch(k))));
          else if (op === 'f1') out.push(at(() => ids(c.fetch())));
          else if (op === 'm') out.push(at(() => c.move(k)) ?? 'm');
          else if (op === 'fb') out.push(at(() => ids(c.fetch(-k))));
          else if (op === 'f0') out.push(at(() => ids(c.fetch(0))));
          else if (op === 'mb') out.push(at(() => c.move(-k)) ?? 'mb');
          else if (op === 'm0') out.push(at(() => c.move(0)) ?? 'm0');
          else out.push(at(() => plv8.subtransaction(() => { out.push(ids(c.fetch(k))); throw new Error('undo'); })));
        }
        return JSON.stringify(out);`;
      const got = [on1, off0].map((h) => {
        h.begin();
        try {
          return h.run(body);
        } finally {
          h.rollback();
        }
      });
      expect({ seed, walk: got[0] }).toEqual({ seed, walk: got[1] });
    }
    expect(on1.readAheads - before).toBeGreaterThan(300);
    expect(off0.readAheads).toBe(0);
  }, 60_000);
});
