/**
 * The in-database entry points without PLV8 (SQL stand-ins that say what to do) and with it
 * (a scratch database with a stand-in `plv8` language, PLV8 itself not being installable
 * here): installProcedures replaces the stand-ins, pins and grants what it installs (PUBLIC
 * executes nothing), `--host auto` tells the two apart, and migrate down removes both.
 * fifo_validate is SQL (migration 014) in both, and neither the stand-ins nor a bundle touch it.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plv8ProceduresInstalled } from '../../packages/cli/src/compute/procedure-host.ts';
import { migrate } from '../../packages/cli/src/db/migrate.ts';
import { COMMENT_PREFIX, installProcedures, loadGeneratedProcedures } from '../../packages/plv8/src/index.ts';
import { runFifo } from '../helpers/cli.ts';
import { baseUrl, createTestSchema, urlWithSchema, type TestSchema } from '../helpers/db.ts';

const STAND_IN = 'fifo-ledger stand-in: PLV8 is not installed';
const SQL_FUNCTION = 'fifo-ledger: SQL function (migration 014)';
const VALIDATE = 'fifo_validate(integer,integer)';
const HINT = /Without PLV8, schedule the runner instead: pnpm fifo compute --incremental, pnpm fifo validate/;

interface Fn { sig: string; lang: string; comment: string | null; config: string[] | null; pub: boolean; engine: boolean; reader: boolean }

async function functions(c: pg.Client, schema: string, names?: string[]): Promise<Fn[]> {
  const { rows } = await c.query<Fn>(
    `SELECT p.oid::regprocedure::text AS sig, l.lanname AS lang, obj_description(p.oid, 'pg_proc') AS comment,
            p.proconfig AS config, has_function_privilege('public', p.oid, 'EXECUTE') AS pub,
            has_function_privilege('fifo_engine', p.oid, 'EXECUTE') AS engine,
            has_function_privilege('fifo_reader', p.oid, 'EXECUTE') AS reader
       FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
      WHERE p.pronamespace = $1::regnamespace AND ($2::text[] IS NULL OR p.proname = ANY ($2::text[]))
      ORDER BY 1`, [schema, names ?? null]);
  return rows;
}

/** How many applied migrations `migrate down` must revert to undo 014 (later ones included). */
async function from014(c: pg.Client): Promise<number> {
  const { rows } = await c.query(`SELECT count(*)::int AS n FROM fifo_migrations WHERE name >= '014'`);
  expect(rows[0]?.n).toBeGreaterThan(0);
  return rows[0]?.n as number;
}

const generated = loadGeneratedProcedures();
const generatedNames = generated.map((p) => p.name);

describe('without PLV8', () => {
  let t: TestSchema;
  beforeAll(async () => {
    t = await createTestSchema();
  });
  afterAll(() => t.drop());

  it('has SQL stand-ins with the generated signatures that raise with fifo_run\'s hint', async (ctx) => {
    if ((await t.query(`SELECT 1 FROM pg_language WHERE lanname = 'plv8'`)).length > 0) ctx.skip(); // real PLV8: the real functions
    const fns = await functions(t.client, t.schema, generatedNames);
    expect(generatedNames).toEqual(['fifo_compute']);
    expect(fns.map((f) => f.sig)).toEqual(['fifo_compute(integer,text[],text,bigint)']);
    for (const f of fns) {
      expect(f).toMatchObject({ lang: 'plpgsql', comment: STAND_IN, config: [`search_path=${t.schema}, pg_temp`], pub: false, engine: true, reader: false });
    }
    const err = await t.client.query(`SELECT fifo_compute(1, '{}', 'full', NULL)`).then(() => null, (e: Error & { code?: string; hint?: string }) => e);
    expect(err).toMatchObject({ code: '42883', message: 'fifo_compute needs PLV8, which is not installed in this database' });
    expect(err?.hint).toMatch(HINT);
    const run = await t.client.query(`SELECT fifo_run(1, 'incremental')`).then(() => null, (e: Error & { code?: string; hint?: string }) => e);
    expect(run).toMatchObject({ code: '42883', message: 'fifo_run needs the PLV8 procedure fifo_compute, which is not installed in this database' });
    expect(run?.hint).toMatch(HINT);
  });

  it('has fifo_validate as a SQL function that needs no PLV8, pinned, and executable by the engine and the reader', async () => {
    expect(await functions(t.client, t.schema, ['fifo_validate'])).toEqual([{
      sig: VALIDATE, lang: 'plpgsql', comment: SQL_FUNCTION, config: [`search_path=${t.schema}, pg_temp`], pub: false, engine: true, reader: true }]);
    const [{ r }] = await t.query<{ r: unknown }>(`SELECT fifo_validate(1, 10) AS r`) as [{ r: unknown }];
    expect(r).toEqual({ ok: true, count: 0, byCheck: {}, discrepancies: [] });
  });

  it('migrate down past 014 brings back 009\'s fifo_validate stand-in where PLV8 is missing', async (ctx) => {
    if ((await t.query(`SELECT 1 FROM pg_language WHERE lanname = 'plv8'`)).length > 0) ctx.skip('this server has PLV8: no stand-ins');
    const s = await createTestSchema({ prefix: 'si14' });
    try {
      await s.migrate('down', { count: await from014(s.client) });
      expect((await functions(s.client, s.schema, ['fifo_validate'])).map((f) => [f.sig, f.lang, f.comment, f.config, f.pub, f.engine])).toEqual([
        [VALIDATE, 'plpgsql', STAND_IN, [`search_path=${s.schema}, pg_temp`], false, true]]);
      await expect(s.client.query(`SELECT fifo_validate(1, 10)`)).rejects.toMatchObject({ code: '42883' });
      await s.migrate('up');
      expect((await functions(s.client, s.schema, ['fifo_validate']))[0]?.comment).toBe(SQL_FUNCTION);
    } finally {
      await s.drop();
    }
  });

  it('leaves --host auto on the Node host', async () => {
    expect(await plv8ProceduresInstalled(t.client)).toBe(false);
    await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, order_time) VALUES ('b', 'SOL-USD', 'buy', 1, 1, now())`);
    const r = await runFifo(['compute', '--json'], { DATABASE_URL: t.url });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'success', host: 'client' });
  });

  it('keeps the stand-ins in step with the bundle\'s signatures', async (ctx) => {
    if ((await t.query(`SELECT 1 FROM pg_language WHERE lanname = 'plv8'`)).length > 0) ctx.skip();
    await t.query('BEGIN');
    try {
      const next = generated.map((p) => (p.name === 'fifo_compute' ? { ...p, args: [...p.args, ['strict_mode', 'boolean']] as Array<[string, string]> } : p));
      const r = await installProcedures(t.client, { procedures: next });
      expect(r).toMatchObject({ plv8: false, action: 'skipped', securityApplied: true,
        standIns: { created: ['fifo_compute(int, text[], text, bigint, boolean)'], dropped: ['fifo_compute(integer,text[],text,bigint)'] } });
      const fns = await functions(t.client, t.schema, ['fifo_compute', 'fifo_validate']);
      expect(fns.map((f) => [f.sig, f.comment, f.pub])).toEqual([
        ['fifo_compute(integer,text[],text,bigint,boolean)', STAND_IN, false],
        [VALIDATE, SQL_FUNCTION, false],
      ]);
      expect(await installProcedures(t.client, { procedures: next })).toMatchObject({ standIns: { created: [], dropped: [] } });
      await expect(t.client.query(`SELECT fifo_compute(1, '{}', 'full', NULL, true)`)).rejects.toMatchObject({ code: '42883' });
    } finally {
      await t.query('ROLLBACK');
    }
  });
});

describe('with PLV8 (a stand-in language)', () => {
  const dbName = `plv8_si_${randomBytes(4).toString('hex')}`;
  const schema = 'fifo';
  let admin: pg.Client;
  let db: pg.Client | undefined;
  let url = '';
  let superuser = false;
  let available = false;

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: baseUrl() });
    await admin.connect();
    superuser = (await admin.query(`SELECT rolsuper FROM pg_roles WHERE rolname = current_user`)).rows[0]?.rolsuper === true;
    // where real PLV8 can be created, migration 004 installs it and the conformance suite covers this
    available = (await admin.query(`SELECT 1 FROM pg_available_extensions WHERE name = 'plv8'`)).rows.length > 0;
    if (!superuser || available) return;
    // a language is database-wide, and other suites migrate concurrently
    await admin.query(`CREATE DATABASE ${dbName}`);
    const u = new URL(baseUrl());
    u.pathname = `/${dbName}`;
    url = urlWithSchema(u.toString(), schema);
    db = new pg.Client({ connectionString: url });
    await db.connect();
  });
  afterAll(async () => {
    await db?.end();
    if (superuser && !available) await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
  });

  it('replaces the stand-ins, pins and grants the PLV8 functions, and drops them all on migrate down', async (ctx) => {
    if (!superuser || available) ctx.skip();
    const c = db as pg.Client;
    await migrate({ url, direction: 'up', schema });
    expect((await functions(c, schema, generatedNames)).map((f) => [f.lang, f.comment])).toEqual([['plpgsql', STAND_IN]]);

    // PLV8 arrives (no validator: the bodies are stored unchecked)
    await c.query(`CREATE FUNCTION public.fake_plv8_handler() RETURNS language_handler AS '$libdir/plpgsql', 'plpgsql_call_handler' LANGUAGE C`);
    await c.query(`CREATE LANGUAGE plv8 HANDLER public.fake_plv8_handler`);
    const r = await migrate({ url, direction: 'up', schema }); // nothing pending: installs the bundle
    expect(r).toEqual([]);
    const fns = await functions(c, schema, generatedNames);
    expect(fns.map((f) => f.sig)).toEqual(['fifo_compute(integer,text[],text,bigint)']);
    expect((await functions(c, schema, ['fifo_validate'])).map((f) => [f.lang, f.comment])).toEqual([['plpgsql', SQL_FUNCTION]]);
    for (const f of fns) {
      expect(f).toMatchObject({
        lang: 'plv8', comment: `${COMMENT_PREFIX}${generated[0]!.bundleId}`, config: [`search_path=${schema}, pg_temp`],
        pub: false, engine: true, reader: false,
      });
    }
    expect(await plv8ProceduresInstalled(c)).toBe(true);
    // nothing of the schema is executable by PUBLIC, and everything is pinned or bound
    const all = await functions(c, schema);
    expect(all.filter((f) => f.pub)).toEqual([]);
    const unpinned = await c.query(`SELECT p.oid::regprocedure::text AS sig FROM pg_proc p WHERE p.pronamespace = $1::regnamespace
                                       AND p.prosqlbody IS NULL AND NOT coalesce($2 = ANY (p.proconfig), false)`,
      [schema, `search_path=${schema}, pg_temp`]);
    expect(unpinned.rows).toEqual([]);

    // a new bundle is re-granted too (new functions start without PUBLIC execute)
    const next = generated.map((p) => ({ ...p, bundleId: 'e'.repeat(64) }));
    await c.query('SET search_path TO fifo');
    const again = await installProcedures(c, { procedures: next });
    expect(again).toMatchObject({ plv8: true, action: 'installed', securityApplied: true, standIns: { dropped: [] } });
    expect((await functions(c, schema, generatedNames)).map((f) => [f.pub, f.engine, f.config])).toEqual([
      [false, true, [`search_path=${schema}, pg_temp`]]]);
    expect(await installProcedures(c, { procedures: next })).toMatchObject({ action: 'current', securityApplied: false });

    // A database that ran an older release: its bundle had a PLV8 fifo_validate. Migration 014
    // replaces it by the SQL one, and the next install keeps that while replacing the bundle.
    await migrate({ url, direction: 'down', schema, count: await from014(c) });
    expect(await functions(c, schema, ['fifo_validate'])).toEqual([]); // the old release's install re-creates it
    const oldId = 'd'.repeat(64);
    const old = [...generated, { ...generated[0]!, name: 'fifo_validate', args: [['allocation_version', 'int'], ['max_rows', 'int']] as Array<[string, string]>,
      volatility: 'STABLE' as const }].map((p) => ({ ...p, bundleId: oldId }));
    expect(await installProcedures(c, { procedures: old })).toMatchObject({ action: 'installed' });
    expect((await functions(c, schema, ['fifo_validate'])).map((f) => [f.lang, f.comment])).toEqual([['plv8', `${COMMENT_PREFIX}${oldId}`]]);
    await c.query('RESET search_path');
    expect((await migrate({ url, direction: 'up', schema }))[0]).toBe('014_validate_sql');
    expect(await functions(c, schema, ['fifo_compute', 'fifo_validate'])).toMatchObject([
      { lang: 'plv8', comment: `${COMMENT_PREFIX}${generated[0]!.bundleId}` },
      { lang: 'plpgsql', comment: SQL_FUNCTION, config: [`search_path=${schema}, pg_temp`], pub: false, engine: true, reader: true },
    ]);

    await migrate({ url, direction: 'down', schema });
    expect(await functions(c, schema)).toEqual([]);
  });

  it('drops the stand-ins on migrate down where PLV8 is missing', async () => {
    const t = await createTestSchema({ prefix: 'si' });
    try {
      if ((await t.query(`SELECT 1 FROM pg_language WHERE lanname = 'plv8'`)).length === 0) {
        expect((await functions(t.client, t.schema, [...generatedNames, 'fifo_validate'])).map((f) => f.comment)).toEqual([STAND_IN, SQL_FUNCTION]);
      }
      await t.migrate('down');
      expect(await functions(t.client, t.schema)).toEqual([]);
    } finally {
      await t.drop();
    }
  });
});
