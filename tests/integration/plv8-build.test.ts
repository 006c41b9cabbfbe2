/**
 * The esbuild → PLV8 build: deterministic output, `--check` drift detection, the environment
 * check, PLV8-shaped bodies, installProcedures() into a scratch database under a stand-in
 * `plv8` language without validator (PLV8 itself is not installable here), and the bundle
 * kept out of the migrations (issue 12: one checked-in copy, no migration over 40 KB).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../packages/cli/src/db/migrate.ts';
import {
  buildOutputs, buildProcedures, BuildError, COMMENT_PREFIX, drift, findForbiddenGlobals, functionDdl, installProcedures,
  loadGeneratedProcedures, type BuildResult, type GeneratedProcedure,
} from '../../packages/plv8/src/index.ts';
import { baseUrl, createTestSchema, urlWithSchema } from '../helpers/db.ts';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const fixtureEntry = fileURLToPath(new URL('../../packages/plv8/test/fixtures/procedures.ts', import.meta.url));
const buildScript = fileURLToPath(new URL('../../packages/plv8/src/build.ts', import.meta.url));
const tsx = join(repoRoot, 'node_modules', '.bin', 'tsx');

let tmp: string;
let fixture: BuildResult;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'plv8-build-'));
  fixture = await buildProcedures({ entry: fixtureEntry });
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

/** PLV8 compiles a body as `(function (<argnames>) { <body> })`. */
function parsesAsPlv8Body(p: GeneratedProcedure): void {
  new vm.Script(`(function (${p.args.map((a) => a[0]).join(', ')}) {\n${p.body}\n})`, { filename: `${p.name}.js` });
}

const upSection = (sql: string) => sql.slice(0, sql.search(/^-- Down Migration/m));
const downSection = (sql: string) => sql.slice(sql.search(/^-- Down Migration/m));

describe('build', () => {
  it('is deterministic and identifies the bundle by its sha256', async () => {
    const again = await buildProcedures({ entry: fixtureEntry });
    expect(again.json).toBe(fixture.json);
    expect(fixture.bundleId).toBe(createHash('sha256').update(fixture.bundle).digest('hex'));
    expect(fixture.json).not.toMatch(/\d{4}-\d\d-\d\dT\d\d:\d\d/); // no timestamps
    expect(fixture.json).not.toContain(repoRoot); // no absolute paths
    for (const p of fixture.procedures) {
      expect(p.bundleId).toBe(fixture.bundleId);
      expect(p.body).toContain(fixture.bundle.replace(/^"use strict";\n/, '').trimEnd());
    }
  });

  it('makes every body (fixture and checked-in) parse as a PLV8 function body', () => {
    for (const p of [...fixture.procedures, ...loadGeneratedProcedures()]) expect(() => parsesAsPlv8Body(p)).not.toThrow();
  });

  it('picks a dollar tag absent from the body', () => {
    const [p] = fixture.procedures as [GeneratedProcedure];
    const tag = `$fifo_${p.bundleId.slice(0, 12)}$`;
    expect(functionDdl(p, { searchPath: 'x, pg_temp' })).toContain(`AS ${tag}\n`);
    const nasty = { ...p, body: `${p.body}\n// ${tag}\n` };
    expect(functionDdl(nasty, { searchPath: 'x, pg_temp' })).toContain(`AS $fifo_${p.bundleId.slice(0, 12)}_1$\n`);
  });

  it('`--check` passes on fresh output and fails on drift of procedures.json, its only output', () => {
    const json = join(tmp, 'procedures.json');
    const run = (...extra: string[]) => spawnSync(tsx, [buildScript, '--entry', fixtureEntry, '--procedures', json, ...extra],
      { cwd: repoRoot, encoding: 'utf8' });
    const check0 = run('--check');
    expect(check0.status).toBe(1); // nothing written yet
    const written = run();
    expect(written.status, written.stderr).toBe(0);
    expect(written.stdout.match(/ wrote /g)).toHaveLength(1);
    expect(readFileSync(json, 'utf8')).toBe(fixture.json);
    const check1 = run('--check');
    expect(check1.status, check1.stderr).toBe(0);
    writeFileSync(json, readFileSync(json, 'utf8').replace('"volatility": ', '"volatility":  '));
    const check2 = run('--check');
    expect(check2.status).toBe(1);
    expect(check2.stderr).toContain('procedures.json');
    expect(run('--migration', join(tmp, '004.sql')).status).toBe(2); // no migration output any more
  });

  it('drift() compares the checked-in procedures.json with a fresh build', async () => {
    const outputs = await buildOutputs({ entry: fixtureEntry, proceduresPath: join(tmp, 'a.json') });
    expect(outputs.files.map((f) => f.path)).toEqual([join(tmp, 'a.json')]);
    expect(drift(outputs)).toHaveLength(1);
    for (const f of outputs.files) writeFileSync(f.path, f.content);
    expect(drift(outputs)).toEqual([]);
  });

  it('keeps the bundle out of the migrations: one checked-in copy, no migration over 40 KB', () => {
    const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: repoRoot, encoding: 'utf8' })
      .split('\0').filter((f) => f !== '' && existsSync(join(repoRoot, f)) && statSync(join(repoRoot, f)).isFile());
    const migrations = files.filter((f) => /^migrations\/.*\.sql$/.test(f));
    expect(migrations).toContain('migrations/004_procedures.sql');
    expect(migrations.filter((f) => statSync(join(repoRoot, f)).size > 40 * 1024)).toEqual([]);
    const [p] = loadGeneratedProcedures() as [GeneratedProcedure];
    // the bundle's id, and a line esbuild writes into every bundle (raw, or escaped in JSON;
    // joined here so that this file does not hold it)
    const prelude = ['var __toCommonJS = (mod) =>', '__copyProps(__defProp({}, "__esModule", { value: true }), mod);'].join(' ');
    expect(p.body).toContain(prelude);
    const marks = [p.bundleId, prelude, JSON.stringify(prelude).slice(1, -1)];
    const holders = files.filter((f) => {
      const text = readFileSync(join(repoRoot, f), 'latin1');
      return marks.some((m) => text.includes(m));
    });
    expect(holders).toEqual(['packages/plv8/generated/procedures.json']);
  });

  it('rejects bundles that use Node or Web globals PLV8 lacks', async () => {
    const entry = join(tmp, 'bad.ts');
    writeFileSync(entry, `export const procedures = { p: { args: [], returns: 'int', volatility: 'STABLE',
      fn: () => { setTimeout(() => 0, 1); return Number(process.env.X ?? Buffer.from('a').length); } } };`);
    await expect(buildProcedures({ entry })).rejects.toThrow(BuildError);
    await expect(buildProcedures({ entry })).rejects.toThrow(/setTimeout[\s\S]*process[\s\S]*Buffer/);
    expect(findForbiddenGlobals(`const s = "process.env"; // require('x')\nx.process.y; typeof process; /process./.test(s); ({ process: 1 })`)).toEqual([]);
    expect(findForbiddenGlobals('const r = require("fs");\nqueueMicrotask(f)').map((f) => [f.name, f.line])).toEqual([['require', 1], ['queueMicrotask', 2]]);
  });

  it('rejects JavaScript that V8 10.2 (PLV8 3.1.10 on Debian) lacks, though Node 20 has it', async () => {
    const entry = join(tmp, 'newer.ts');
    writeFileSync(entry, `export const procedures = { p: { args: [], returns: 'int', volatility: 'STABLE',
      fn: () => [3, 1, 2].toSorted()[0]! + (/[a]/v.test('a') ? 1 : 0) } };`);
    await expect(buildProcedures({ entry })).rejects.toThrow(BuildError);
    await expect(buildProcedures({ entry })).rejects.toThrow(/toSorted[\s\S]*needs V8[\s\S]*flag v/);
  });

  it('validates procedure specs', async () => {
    const entry = join(tmp, 'badspec.ts');
    writeFileSync(entry, `export const procedures = { p: { args: [['default', 'int']], returns: 'int', volatility: 'STABLE', fn: () => 1 } };`);
    await expect(buildProcedures({ entry })).rejects.toThrow(/argument name "default"/);
    writeFileSync(entry, `export const procedures = { p: { args: [], returns: 'int; DROP TABLE x', volatility: 'STABLE', fn: () => 1 } };`);
    await expect(buildProcedures({ entry })).rejects.toThrow(/returns must be a SQL type/);
  });
});


describe('installProcedures', () => {
  const dbName = `plv8_scratch_${randomBytes(4).toString('hex')}`;
  let admin: pg.Client;
  let db: pg.Client | undefined;
  let dbUrl = '';
  let superuser = false;

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: baseUrl() });
    await admin.connect();
    superuser = (await admin.query(`SELECT rolsuper FROM pg_roles WHERE rolname = current_user`)).rows[0]?.rolsuper === true;
    if (!superuser) return;
    // A scratch database: a language is database-wide, and other suites run migrations concurrently.
    await admin.query(`CREATE DATABASE ${dbName}`);
    const u = new URL(baseUrl());
    u.pathname = `/${dbName}`;
    dbUrl = u.toString();
    db = new pg.Client({ connectionString: dbUrl });
    await db.connect();
    await db.query(`CREATE FUNCTION fake_plv8_handler() RETURNS language_handler AS '$libdir/plpgsql', 'plpgsql_call_handler' LANGUAGE C`);
    await db.query(`CREATE LANGUAGE plv8 HANDLER fake_plv8_handler`); // no validator: bodies are stored unchecked
  });
  afterAll(async () => {
    await db?.end();
    if (superuser) await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
  });

  async function installed(schema: string): Promise<Array<Record<string, unknown>>> {
    const { rows } = await (db as pg.Client).query(
      `SELECT p.proname AS name, l.lanname AS lang, p.prosrc AS body, p.proconfig AS config, p.provolatile AS vol,
              p.proisstrict AS strict, p.proretset AS setof, obj_description(p.oid, 'pg_proc') AS comment,
              has_function_privilege('public', p.oid, 'EXECUTE') AS pub,
              has_function_privilege('fifo_engine', p.oid, 'EXECUTE') AS engine
         FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
        WHERE p.pronamespace = $1::regnamespace AND l.lanname = 'plv8' ORDER BY p.proname`, [schema]);
    return rows;
  }
  const down004 = () => {
    const sql = readFileSync(join(repoRoot, 'migrations', '004_procedures.sql'), 'utf8');
    return sql.slice(sql.search(/^-- Down Migration/m));
  };

  it('migrate up installs every generated function with its attributes, pin and grants; migrate down drops them', async (ctx) => {
    if (!superuser) ctx.skip('needs a superuser to create the stand-in plv8 language');
    const real = loadGeneratedProcedures();
    const schema = 'gen';
    const c = db as pg.Client;
    // no migration holds the bundle: 004's up leaves nothing behind
    await c.query(`CREATE SCHEMA ${schema}`);
    const up004 = readFileSync(join(repoRoot, 'migrations', '004_procedures.sql'), 'utf8').split(/^-- Down Migration/m)[0] as string;
    await c.query(`SET search_path TO ${schema}; ${up004}; RESET search_path`);
    expect(await installed(schema)).toEqual([]);

    await migrate({ url: urlWithSchema(dbUrl, schema), direction: 'up', schema });
    const rows = await installed(schema);
    expect(rows.map((r) => r.name)).toEqual(real.map((p) => p.name).sort());
    for (const p of real) {
      expect(rows.find((x) => x.name === p.name)).toMatchObject({
        lang: 'plv8', body: p.body, config: [`search_path=${schema}, pg_temp`], comment: `${COMMENT_PREFIX}${p.bundleId}`,
        vol: p.volatility[0]?.toLowerCase(), strict: p.strict, setof: p.setof, pub: false, engine: true,
      });
    }
    await c.query(`SET search_path TO ${schema}`);
    try {
      expect(await installProcedures(c)).toMatchObject({ plv8: true, action: 'current' });
    } finally {
      await c.query('RESET search_path');
    }
    await migrate({ url: urlWithSchema(dbUrl, schema), direction: 'down', schema });
    expect(await installed(schema)).toEqual([]);
  });

  it('installs the fixture procedures with their attributes and keeps them current; 004 down drops any bundle', async (ctx) => {
    if (!superuser) ctx.skip('needs a superuser to create the stand-in plv8 language');
    const c = db as pg.Client;
    await c.query('CREATE SCHEMA fx');
    await c.query('SET search_path TO fx');
    try {
      expect(await installProcedures(c, { procedures: fixture.procedures })).toMatchObject({ plv8: true, action: 'installed', securityApplied: false });
      const rows = await installed('fx');
      expect(rows).toHaveLength(fixture.procedures.length);
      for (const r of rows) expect(r).toMatchObject({ config: ['search_path=fx, pg_temp'], comment: `${COMMENT_PREFIX}${fixture.bundleId}` });
      expect(rows.find((r) => r.name === 'fx_strict')).toMatchObject({ strict: true, vol: 'i' });
      expect(rows.find((r) => r.name === 'fx_table')).toMatchObject({ setof: true });
      expect(rows.find((r) => r.name === 'fx_setof_ints')).toMatchObject({ setof: true });
      expect(rows.find((r) => r.name === 'fx_counter')).toMatchObject({ vol: 'v', strict: false });

      expect(await installProcedures(c, { procedures: fixture.procedures })).toMatchObject({ plv8: true, action: 'current' });
      // a new bundle without one procedure, and one result type changed
      const newId = 'f'.repeat(64);
      const next = fixture.procedures
        .filter((p) => p.name !== 'fx_log')
        .map((p) => ({ ...p, bundleId: newId, ...(p.name === 'fx_returns_int8' ? { returns: 'text' } : {}) }));
      const res = await installProcedures(c, { procedures: next });
      expect(res.action).toBe('installed');
      expect(res.dropped.sort()).toEqual(['fx_log(text)', 'fx_returns_int8()']);
      const after = await installed('fx');
      expect(after.map((r) => r.name)).toEqual(next.map((p) => p.name).sort());
      expect(new Set(after.map((r) => r.comment))).toEqual(new Set([`${COMMENT_PREFIX}${newId}`]));
      expect(await installProcedures(c, { procedures: next })).toMatchObject({ action: 'current' });
      // 004's down drops the functions of whatever bundle is installed, and nothing else
      await c.query(`CREATE FUNCTION fx_own() RETURNS int LANGUAGE plv8 AS 'return 1'`);
      await c.query(down004());
      expect((await installed('fx')).map((r) => r.name)).toEqual(['fx_own']);
    } finally {
      await c.query('RESET search_path');
    }
  });

  it('is a no-op where PLV8 is missing', async (ctx) => {
    const probe = await admin.query(`SELECT 1 FROM pg_available_extensions WHERE name = 'plv8'
                                     UNION ALL SELECT 1 FROM pg_language WHERE lanname = 'plv8'`);
    if (probe.rows.length > 0) ctx.skip('this server has PLV8: installProcedures installs the procedures instead');
    const t = await createTestSchema({ migrated: false, prefix: 'plv8b' });
    try {
      expect(await installProcedures(t.client, { procedures: fixture.procedures })).toMatchObject({
        plv8: false, action: 'skipped', created: [], securityApplied: false });
      expect(await t.query(`SELECT proname FROM pg_proc WHERE pronamespace = $1::regnamespace`, [t.schema])).toEqual([]);
    } finally {
      await t.drop();
    }
  });
});
