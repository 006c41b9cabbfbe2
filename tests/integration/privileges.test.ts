/**
 * Roles: a reader cannot change allocations, a writer cannot forge them, nobody can edit
 * the audit trail, and the engine computes with only its own rights.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFifo } from '../helpers/cli.ts';
import { createTestSchema, type TestSchema } from '../helpers/db.ts';
import { createLoginRole, roleAttributes, type LoginRole } from '../helpers/roles.ts';

describe('roles fifo_writer, fifo_reader, fifo_engine', () => {
  let t: TestSchema;
  beforeAll(async () => {
    t = await createTestSchema();
  });
  afterAll(() => t.drop());

  /** Runs `sql` as `role` inside a transaction that is rolled back. */
  async function as(role: string, sql: string, params: unknown[] = []): Promise<unknown[]> {
    await t.query('BEGIN');
    try {
      await t.query(`SET LOCAL ROLE ${role}`);
      return await t.query(sql, params);
    } finally {
      await t.query('ROLLBACK');
    }
  }
  const denied = /permission denied/;

  it('lets the writer insert and correct facts, audited through the trigger', async () => {
    await t.query('BEGIN');
    await t.query('SET LOCAL ROLE fifo_writer');
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES ('w1', 'SOL-USD', 'buy', 1, 10, now())`);
    await t.query(`UPDATE trade_records SET price = 11 WHERE order_id = 'w1'`);
    await t.query('RESET ROLE');
    const audit = await t.query(`SELECT operation, changed_by FROM trade_records_audit WHERE order_id = 'w1' ORDER BY audit_id`);
    await t.query('ROLLBACK');
    expect(audit).toEqual([{ operation: 'INSERT', changed_by: 'fifo_writer' }, { operation: 'UPDATE', changed_by: 'fifo_writer' }]);
  });

  it('keeps the writer from forging allocations or touching the audit trail', async () => {
    await expect(as('fifo_writer', `INSERT INTO fifo_allocations (allocation_version, symbol, sell_order_id, allocation_seq, allocated_size, sell_price, sell_time, sell_fee_usd, proceeds_usd)
                                      VALUES (1, 'SOL-USD', 'x', 1, 1, 1, now(), 0, 1)`)).rejects.toThrow(denied);
    await expect(as('fifo_writer', `INSERT INTO trade_records_audit (operation, symbol, order_id, affected_time) VALUES ('INSERT', 'SOL-USD', 'x', now())`)).rejects.toThrow(denied);
    await expect(as('fifo_writer', `DELETE FROM trade_records_audit`)).rejects.toThrow(denied);
    await expect(as('fifo_writer', `UPDATE fifo_dirty_symbols SET dirty_from = now()`)).rejects.toThrow(denied);
    await expect(as('fifo_writer', `SELECT * FROM v_pnl_by_symbol`)).rejects.toThrow(denied);
  });

  it('lets the reader read the views and the ledger but change nothing, nor read the audit trail', async () => {
    expect(await as('fifo_reader', `SELECT * FROM v_pnl_by_symbol`)).toEqual([]);
    expect(await as('fifo_reader', `SELECT count(*)::int AS n FROM v_allocation_discrepancies`)).toEqual([{ n: 0 }]);
    expect((await as('fifo_reader', `SELECT * FROM v_allocation_health`)).length).toBe(1);
    expect(await as('fifo_reader', `SELECT * FROM fifo_allocations`)).toEqual([]);
    await expect(as('fifo_reader', `SELECT * FROM trade_records_audit`)).rejects.toThrow(denied);
    await expect(as('fifo_reader', `DELETE FROM fifo_allocations`)).rejects.toThrow(denied);
    await expect(as('fifo_reader', `UPDATE manual_review_queue SET status = 'ignored'`)).rejects.toThrow(denied);
    await expect(as('fifo_reader', `INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES ('r', 'SOL-USD', 'buy', 1, 1, now())`)).rejects.toThrow(denied);
  });

  it('lets nobody edit the audit trail, not even the engine or the owner', async () => {
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES ('a1', 'SOL-USD', 'buy', 1, 10, now())`);
    for (const role of ['fifo_engine', 'fifo_reader', 'fifo_writer']) {
      await expect(as(role, `UPDATE trade_records_audit SET symbol = 'X-Y'`)).rejects.toThrow(denied);
      await expect(as(role, `DELETE FROM trade_records_audit`)).rejects.toThrow(denied);
    }
    await expect(t.query(`DELETE FROM trade_records_audit`)).rejects.toThrow(/append-only/);
    await expect(t.query(`UPDATE trade_records_audit SET symbol = 'X-Y'`)).rejects.toThrow(/append-only/);
  });

  it('re-applies the pins and grants idempotently, and only the owner may', async () => {
    const acl = () => t.query(`
      SELECT p.oid::regprocedure::text AS name, p.proacl::text AS acl, p.proconfig::text AS config FROM pg_proc p WHERE p.pronamespace = $1::regnamespace
      UNION ALL SELECT c.relname, c.relacl::text, NULL FROM pg_class c WHERE c.relnamespace = $1::regnamespace AND c.relkind IN ('r', 'v')
      ORDER BY 1`, [t.schema]);
    const before = await acl();
    await t.query(`SELECT fifo_apply_security()`);
    await t.query(`SELECT fifo_apply_security()`);
    expect(await acl()).toEqual(before);
    for (const role of ['fifo_engine', 'fifo_writer', 'fifo_reader']) {
      await expect(as(role, `SELECT fifo_apply_security()`)).rejects.toMatchObject({ code: '42501' });
    }
  });

  it("leaves the user's own functions and views in the schema alone (it may be public)", async () => {
    await t.query(`CREATE FUNCTION my_helper() RETURNS int LANGUAGE sql AS 'SELECT 1'`);
    await t.query(`CREATE VIEW v_mine AS SELECT 1 AS one`);
    await t.query(`SELECT fifo_apply_security()`);
    expect(await t.query(`SELECT proconfig, has_function_privilege('public', oid, 'EXECUTE') AS public_may
                           FROM pg_proc WHERE oid = 'my_helper()'::regprocedure`)).toEqual([{ proconfig: null, public_may: true }]);
    expect(await t.query(`SELECT has_table_privilege('fifo_reader', 'v_mine', 'SELECT') AS reader_may`)).toEqual([{ reader_may: false }]);
    await t.query(`DROP FUNCTION my_helper(); DROP VIEW v_mine`);
  });

  it('lets the engine compute (Node host) with its own rights only', async () => {
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES ('s1', 'SOL-USD', 'sell', 0.5, 12, now() + interval '1 s')`);
    const u = new URL(t.url);
    u.searchParams.set('options', `${u.searchParams.get('options')} -c role=fifo_engine`);
    const r = await runFifo(['compute', '--json'], { DATABASE_URL: u.toString() });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'success', allocationsWritten: 1 });
    expect((await runFifo(['validate'], { DATABASE_URL: u.toString() })).code).toBe(0);
    await expect(as('fifo_engine', `INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES ('e', 'SOL-USD', 'buy', 1, 1, now())`)).rejects.toThrow(denied);
    expect(await t.query(`SELECT proname, proconfig FROM pg_proc WHERE proname IN ('fifo_record_fact_changes', 'fifo_run')
                            AND pronamespace = $1::regnamespace ORDER BY 1`, [t.schema]))
      .toEqual([
        { proname: 'fifo_record_fact_changes', proconfig: [`search_path=${t.schema}, pg_temp`] },
        { proname: 'fifo_run', proconfig: [`search_path=${t.schema}, pg_temp`] },
      ]);
  });
});

/**
 * The owner's functions resolve names in the schema first and in the caller's pg_temp last:
 * temp tables named like the audit trail, the dirty markers or the versions, with a temp
 * trigger (or a temp view calling a temp function) that would run with the owner's rights,
 * are never reached, whoever logs in.
 */
describe('functions that run with their owner\'s rights', () => {
  it('are pinned to the schema with pg_temp last by 008 itself, before 009 re-pins everything', async () => {
    const t = await createTestSchema({ migrated: false, prefix: 'pin' });
    try {
      const definers = () => t.query<{ name: string; config: string[] | null }>(
        `SELECT p.proname AS name, p.proconfig AS config FROM pg_proc p
          WHERE p.pronamespace = $1::regnamespace AND p.prosecdef ORDER BY 1`, [t.schema]);
      const pinned = [`search_path=${t.schema}, pg_temp`];
      await t.migrate('up', { count: 8 }); // 008 makes the ledger trigger and the dirty markers run as their owner
      const at8 = await definers();
      expect(at8.map((f) => f.name)).toEqual(['fifo_mark_dirty', 'fifo_mark_new_version_dirty', 'fifo_record_fact_changes']);
      for (const f of at8) expect(f).toEqual({ name: f.name, config: pinned });
    } finally {
      await t.drop();
    }
  });

  // `fifo migrate up` ends each step with 009's fifo_apply_security; the migrations that make
  // owner-rights functions (008, 013, 018, 020) also capture `<schema>, pg_temp` themselves
  // (set_config, then SET search_path FROM CURRENT), which the 008 case above proves for 008.
  it('are pinned with pg_temp last after every migrate up step (013, 018, 020 included)', async () => {
    const t = await createTestSchema({ migrated: false, prefix: 'pins' });
    try {
      const pinned = [`search_path=${t.schema}, pg_temp`];
      const unpinned = () => t.query<{ name: string; config: string[] | null }>(
        `SELECT p.proname AS name, p.proconfig AS config FROM pg_proc p
          WHERE p.pronamespace = $1::regnamespace AND p.prosecdef
            AND p.proconfig IS DISTINCT FROM $2::text[] ORDER BY 1`, [t.schema, pinned]);
      let steps = 0;
      // one migration at a time, checked after each
      while ((await t.migrate('up', { count: 1 })).length > 0) {
        steps++;
        expect({ after: steps, unpinned: await unpinned() }).toEqual({ after: steps, unpinned: [] });
      }
      expect(steps).toBeGreaterThanOrEqual(24);
    } finally {
      await t.drop();
    }
  });
});

describe('shadowing with temporary objects', () => {
  let t: TestSchema;
  const logins: LoginRole[] = [];
  let rolesBefore: unknown[];
  beforeAll(async () => {
    t = await createTestSchema();
    for (const r of ['fifo_writer', 'fifo_engine', 'fifo_reader']) logins.push(await createLoginRole(t.url, r));
    rolesBefore = await roleAttributes(t.client, logins.map((l) => l.name));
  });
  afterAll(async () => {
    for (const l of logins) await l.drop();
    await t.drop();
  });

  /** What the attacker's temp trigger would do with the owner's rights. */
  const evilBody = (schema: string) => `
    INSERT INTO pg_temp.fired VALUES (current_user);
    EXECUTE format('ALTER ROLE %I SUPERUSER CREATEROLE CREATEDB BYPASSRLS', session_user);
    EXECUTE format('GRANT %I TO %I', current_user, session_user);
    INSERT INTO ${schema}.fifo_allocation_versions (allocation_version, method, description) VALUES (77, 'lifo', 'forged');`;

  const shadows: Record<string, string> = {
    audit: `CREATE TEMP TABLE trade_records_audit (audit_id bigint GENERATED ALWAYS AS IDENTITY, operation text, symbol text,
              order_id text, affected_time timestamptz, old_fact jsonb, new_fact jsonb, changed_at timestamptz DEFAULT now(),
              changed_by text, txid xid8 DEFAULT pg_current_xact_id());
            CREATE TRIGGER evil BEFORE INSERT ON pg_temp.trade_records_audit FOR EACH ROW EXECUTE FUNCTION pg_temp.evil();`,
    dirty: `CREATE TEMP TABLE fifo_dirty_symbols (allocation_version int, symbol text, dirty_from timestamptz, last_audit_id bigint,
              first_marked_at timestamptz DEFAULT now(), marked_at timestamptz DEFAULT now(), PRIMARY KEY (allocation_version, symbol));
            CREATE TRIGGER evil BEFORE INSERT OR UPDATE ON pg_temp.fifo_dirty_symbols FOR EACH ROW EXECUTE FUNCTION pg_temp.evil();`,
    // read, not written: a temp view whose temp function runs as whoever reads it
    versions: `CREATE FUNCTION pg_temp.evil_versions() RETURNS TABLE (allocation_version int) LANGUAGE plpgsql AS $$
                 BEGIN PERFORM pg_temp.evil_now(); RETURN QUERY SELECT 1; END $$;
               CREATE TEMP VIEW fifo_allocation_versions AS SELECT * FROM pg_temp.evil_versions();`,
  };

  /** A session of `login` acting as its fifo role, with the shadow in its pg_temp. */
  async function attacker(login: LoginRole, role: string, shadow: string): Promise<pg.Client> {
    const c = await login.connect();
    await c.query(`SET ROLE ${role}`);
    await c.query(`CREATE TEMP TABLE fired (who text)`);
    await c.query(`CREATE FUNCTION pg_temp.evil() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN ${evilBody(t.schema)} RETURN NEW; END $$`);
    await c.query(`CREATE FUNCTION pg_temp.evil_now() RETURNS void LANGUAGE plpgsql AS $$ BEGIN ${evilBody(t.schema)} END $$`);
    await c.query(shadows[shadow] as string);
    return c;
  }

  async function expectUntouched(c: pg.Client, shadow: string): Promise<void> {
    expect((await c.query(`SELECT count(*)::int AS n FROM pg_temp.fired`)).rows).toEqual([{ n: 0 }]);
    if (shadow !== 'versions') {
      const table = shadow === 'audit' ? 'trade_records_audit' : 'fifo_dirty_symbols';
      expect((await c.query(`SELECT count(*)::int AS n FROM pg_temp.${table}`)).rows).toEqual([{ n: 0 }]);
    }
    expect(await t.query(`SELECT * FROM fifo_allocation_versions WHERE allocation_version = 77`)).toEqual([]);
    expect(await roleAttributes(t.client, logins.map((l) => l.name))).toEqual(rolesBefore);
  }

  async function dirty(symbol: string): Promise<number> {
    const [r] = await t.query<{ n: number }>(`SELECT count(*)::int AS n FROM fifo_dirty_symbols WHERE allocation_version = 1 AND symbol = $1`, [symbol]);
    return r!.n;
  }

  for (const shadow of Object.keys(shadows)) {
    it(`audits a writer's insert, correction and delete in the real trail despite a temp ${shadow} shadow`, async () => {
      const c = await attacker(logins[0]!, 'fifo_writer', shadow);
      const symbol = `${shadow.toUpperCase()}-USD`;
      const id = `shadow-${shadow}`;
      const steps: Array<[string, string]> = [
        ['INSERT', `INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES ('${id}', '${symbol}', 'buy', 1, 10, '2025-03-01Z')`],
        ['UPDATE', `UPDATE trade_records SET price = 11 WHERE order_id = '${id}'`],
        ['DELETE', `DELETE FROM trade_records WHERE order_id = '${id}'`],
      ];
      for (const [op, sql] of steps) {
        await t.query(`DELETE FROM fifo_dirty_symbols WHERE symbol = $1`, [symbol]);
        await c.query(sql).catch(() => {}); // refused or not, what counts is what it wrote
        const audit = await t.query(`SELECT operation, changed_by FROM trade_records_audit WHERE order_id = $1 ORDER BY audit_id DESC LIMIT 1`, [id]);
        expect({ op, audit }).toEqual({ op, audit: [{ operation: op, changed_by: 'fifo_writer' }] });
        expect({ op, dirty: await dirty(symbol) }).toEqual({ op, dirty: 1 });
        await expectUntouched(c, shadow);
      }
    });
  }

  it('marks the real dirty markers when the engine calls fifo_mark_dirty beside a temp shadow', async () => {
    for (const shadow of ['dirty', 'versions']) {
      const c = await attacker(logins[1]!, 'fifo_engine', shadow);
      await c.query(`SELECT fifo_mark_dirty(ARRAY['ENGINE-USD'], ARRAY['2025-01-01Z'::timestamptz], ARRAY[0::bigint])`).catch(() => {});
      expect(await dirty('ENGINE-USD')).toBe(1);
      await t.query(`DELETE FROM fifo_dirty_symbols WHERE symbol = 'ENGINE-USD'`);
      await expect(c.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES ('e', 'ENGINE-USD', 'buy', 1, 1, now())`))
        .rejects.toMatchObject({ code: '42501' });
      await expectUntouched(c, shadow);
    }
  });

  it('refuses the reader any fact change, shadow or not', async () => {
    for (const shadow of Object.keys(shadows)) {
      const c = await attacker(logins[2]!, 'fifo_reader', shadow);
      for (const sql of [
        `INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES ('r', 'READER-USD', 'buy', 1, 1, now())`,
        `UPDATE trade_records SET price = 2`,
        `DELETE FROM trade_records`,
        `SELECT fifo_mark_dirty(ARRAY['READER-USD'], ARRAY[now()], ARRAY[0::bigint])`,
      ]) await expect(c.query(sql)).rejects.toMatchObject({ code: '42501' });
      await expectUntouched(c, shadow);
    }
    expect(await dirty('READER-USD')).toBe(0);
  });

  it('pins every function that resolves names at run time to the schema, pg_temp last', async () => {
    const rows = await t.query<{ sig: string; config: string[] | null }>(
      `SELECT p.oid::regprocedure::text AS sig, p.proconfig AS config FROM pg_proc p
        WHERE p.pronamespace = $1::regnamespace AND p.prosqlbody IS NULL ORDER BY 1`, [t.schema]);
    expect(rows.length).toBeGreaterThan(10);
    for (const r of rows) expect({ sig: r.sig, config: r.config }).toEqual({ sig: r.sig, config: [`search_path=${t.schema}, pg_temp`] });
  });
});

/** A login holding only fifo_reader uses the read-only commands, and writes nothing at all. */
describe('a reader login', () => {
  let t: TestSchema;
  let reader: LoginRole;
  beforeAll(async () => {
    t = await createTestSchema();
    reader = await createLoginRole(t.url, 'fifo_reader');
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES
                     ('b1', 'SOL-USD', 'buy', 1, 10, '2025-01-01Z'), ('s1', 'SOL-USD', 'sell', 2, 12, '2025-01-02Z')`);
    await t.query(`INSERT INTO fifo_allocation_versions (allocation_version, method) VALUES (2, 'lifo')`);
    for (const v of ['1', '2']) {
      const r = await runFifo(['compute', '--version', v], { DATABASE_URL: t.url });
      expect(r.code, r.stderr).toBe(0);
    }
  });
  afterAll(async () => {
    await reader.drop();
    await t.drop();
  });

  it.each([
    [['report']], [['report', '--by', 'day', '--format', 'json']], [['health']], [['review', 'list']], [['review', 'list', '--json']],
    [['validate']], [['diff', '--from', '1', '--to', '2']], [['export', 'lots', '--year', '2025']], [['legacy-compare']],
  ])('runs fifo %j and sees what the owner sees', async (args) => {
    const owner = await runFifo(args, { DATABASE_URL: t.url });
    const r = await runFifo(args, { DATABASE_URL: reader.url });
    expect(r.stderr).not.toMatch(/permission denied/);
    // health exits 1 for its warning (an unmatched sell), legacy-compare 2 (nothing adopted): like the owner's
    const stamp = (out: string) => out.replace(/"generated_at": "[^"]*"/g, '"generated_at": "…"');
    expect({ code: r.code, stdout: stamp(r.stdout), stderr: r.stderr })
      .toEqual({ code: owner.code, stdout: stamp(owner.stdout), stderr: owner.stderr });
    expect(r.stdout.length + r.stderr.length).toBeGreaterThan(0);
  });

  it('holds no write right on any table and executes nothing that could write', async () => {
    const tables = await t.query<{ t: string; w: boolean }>(
      `SELECT c.relname AS t, has_table_privilege('fifo_reader', c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER') AS w
         FROM pg_class c WHERE c.relnamespace = $1::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm') ORDER BY 1`, [t.schema]);
    expect(tables.length).toBeGreaterThan(15);
    expect(tables.filter((x) => x.w)).toEqual([]);
    const fns = await t.query<{ sig: string; vol: string }>(
      `SELECT p.oid::regprocedure::text AS sig, p.provolatile AS vol FROM pg_proc p
        WHERE p.pronamespace = $1::regnamespace AND has_function_privilege('fifo_reader', p.oid, 'EXECUTE') ORDER BY 1`, [t.schema]);
    expect(fns.length).toBeGreaterThan(3);
    expect(fns.filter((f) => f.vol === 'v')).toEqual([]);
    // and for real, as the login
    const c = await reader.connect();
    for (const sql of [
      `DELETE FROM manual_review_queue`, `UPDATE fifo_allocations SET pnl_usd = 0`, `TRUNCATE fifo_dirty_symbols`,
      `INSERT INTO fifo_computation_log (allocation_version, mode, host) VALUES (1, 'full', 'client')`,
      `DELETE FROM trade_records`, `SELECT fifo_run(1, 'full')`, `SELECT fifo_compute(1, '{}', 'full', NULL)`,
      `SELECT * FROM trade_records_audit`,
    ]) await expect(c.query(sql), sql).rejects.toMatchObject({ code: '42501' });
    const r = await runFifo(['compute', '--force'], { DATABASE_URL: reader.url });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/permission denied/);
  });

  it('lets PUBLIC (a login with no fifo role) execute no function of the schema', async () => {
    const fns = await t.query<{ sig: string }>(
      `SELECT p.oid::regprocedure::text AS sig FROM pg_proc p
        WHERE p.pronamespace = $1::regnamespace AND has_function_privilege('public', p.oid, 'EXECUTE')`, [t.schema]);
    expect(fns).toEqual([]);
  });
});
