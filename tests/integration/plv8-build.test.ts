/**
 * The esbuild → PLV8 build: deterministic output, `--check` drift detection, the environment
 * check, PLV8-shaped bodies, and the generated DDL installing into a scratch database under a
 * stand-in `plv8` language without validator (PLV8 itself is not installable here).
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildOutputs, buildProcedures, BuildError, COMMENT_PREFIX, drift, findForbiddenGlobals, installProcedures,
  loadGeneratedProcedures, renderMigration, type BuildResult, type GeneratedProcedure,
} from '../../packages/plv8/src/index.ts';
import { baseUrl, createTestSchema } from '../helpers/db.ts';

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
    expect(again.migration).toBe(fixture.migration);
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

  it('emits a node-pg-migrate migration with a dollar tag absent from every body', () => {
    const sql = fixture.migration;
    expect(sql.startsWith('-- Up Migration\n')).toBe(true);
    expect(sql.match(/^-- Down Migration$/gm)).toHaveLength(1);
    for (const p of fixture.procedures) {
      const tag = /AS (\$[a-z0-9_]+\$)\n/.exec(sql.slice(sql.indexOf(`FUNCTION ${p.name}(`)))?.[1];
      expect(tag).toBeDefined();
      expect(p.body.includes(tag as string)).toBe(false);
      expect(downSection(sql)).toContain(`DROP FUNCTION IF EXISTS ${p.name}(`);
    }
    expect(sql).toContain('SET search_path FROM CURRENT');
  });

  it('picks another dollar tag when a body contains the default one', () => {
    const [p] = fixture.procedures as [GeneratedProcedure];
    const tag = `$fifo_${p.bundleId.slice(0, 12)}$`;
    const nasty = { ...p, body: `${p.body}\n// ${tag} $fifo_plv8_install$` };
    const sql = renderMigration([nasty], p.bundleId, 'x');
    expect(sql).toContain(`$fifo_${p.bundleId.slice(0, 12)}_1$`);
    expect(sql).toContain('DO $fifo_plv8_install_1$');
  });

  it('`--check` passes on fresh outputs and fails on drift', () => {
    const json = join(tmp, 'procedures.json');
    const sql = join(tmp, '004.sql');
    const run = (...extra: string[]) => spawnSync(tsx, [buildScript, '--entry', fixtureEntry, '--procedures', json, '--migration', sql, ...extra],
      { cwd: repoRoot, encoding: 'utf8' });
    const check0 = run('--check');
    expect(check0.status).toBe(1); // nothing written yet
    expect(run().status).toBe(0);
    expect(readFileSync(json, 'utf8')).toBe(fixture.json);
    const check1 = run('--check');
    expect(check1.status, check1.stderr).toBe(0);
    writeFileSync(sql, readFileSync(sql, 'utf8').replace('LANGUAGE plv8', 'LANGUAGE plv8 '));
    const check2 = run('--check');
    expect(check2.status).toBe(1);
    expect(check2.stderr).toContain('004.sql');
    expect(check2.stderr).not.toContain('procedures.json');
  });

  it('drift() compares checked-in files with a fresh build', async () => {
    const outputs = await buildOutputs({ entry: fixtureEntry, proceduresPath: join(tmp, 'a.json'), migrationPath: join(tmp, 'a.sql') });
    expect(drift(outputs)).toHaveLength(2);
    for (const f of outputs.files) writeFileSync(f.path, f.content);
    expect(drift(outputs)).toEqual([]);
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

describe('generated DDL', () => {
  const dbName = `plv8_scratch_${randomBytes(4).toString('hex')}`;
  let admin: pg.Client;
  let db: pg.Client | undefined;
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
    db = new pg.Client({ connectionString: u.toString() });
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
              p.proisstrict AS strict, p.proretset AS setof, obj_description(p.oid, 'pg_proc') AS comment
         FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
        WHERE p.pronamespace = $1::regnamespace ORDER BY p.proname`, [schema]);
    return rows;
  }

  async function migrateIn(schema: string, sql: string): Promise<void> {
    const c = db as pg.Client;
    await c.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await c.query(`SET search_path TO ${schema}`);
    await c.query(sql);
    await c.query(`RESET search_path`);
  }

  it('installs every generated function of the checked-in migration 004', async (ctx) => {
    if (!superuser) ctx.skip();
    const real = loadGeneratedProcedures();
    const sql = readFileSync(join(repoRoot, 'migrations', '004_procedures.sql'), 'utf8');
    await migrateIn('gen', upSection(sql));
    const rows = await installed('gen');
    expect(rows.map((r) => r.name)).toEqual(real.map((p) => p.name).sort());
    for (const p of real) {
      const r = rows.find((x) => x.name === p.name);
      expect(r).toMatchObject({ lang: 'plv8', body: p.body, config: ['search_path=gen'], comment: `${COMMENT_PREFIX}${p.bundleId}` });
    }
    await migrateIn('gen', downSection(sql));
    expect(await installed('gen')).toEqual([]);
  });

  it('installs the fixture procedures with their attributes, and installProcedures keeps them current', async (ctx) => {
    if (!superuser) ctx.skip();
    await migrateIn('fx', upSection(fixture.migration));
    const rows = await installed('fx');
    expect(rows).toHaveLength(fixture.procedures.length);
    expect(rows.find((r) => r.name === 'fx_strict')).toMatchObject({ strict: true, vol: 'i' });
    expect(rows.find((r) => r.name === 'fx_table')).toMatchObject({ setof: true });
    expect(rows.find((r) => r.name === 'fx_setof_ints')).toMatchObject({ setof: true });
    expect(rows.find((r) => r.name === 'fx_counter')).toMatchObject({ vol: 'v', strict: false });

    const c = db as pg.Client;
    await c.query('SET search_path TO fx');
    try {
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
    } finally {
      await c.query('RESET search_path');
    }
    await migrateIn('fx', downSection(fixture.migration));
    expect(await installed('fx')).toEqual([]);
  });

  it('is a no-op with a NOTICE where PLV8 is missing', async (ctx) => {
    const probe = await admin.query(`SELECT 1 FROM pg_available_extensions WHERE name = 'plv8'
                                     UNION ALL SELECT 1 FROM pg_language WHERE lanname = 'plv8'`);
    if (probe.rows.length > 0) ctx.skip('this server has PLV8: the migration installs the procedures instead');
    const t = await createTestSchema({ migrated: false, prefix: 'plv8b' });
    try {
      const notices: string[] = [];
      t.client.on('notice', (n) => notices.push(n.message ?? ''));
      await t.client.query(upSection(fixture.migration));
      expect(notices.some((n) => /PLV8 is not installed/.test(n))).toBe(true);
      expect(await t.query(`SELECT proname FROM pg_proc WHERE pronamespace = $1::regnamespace`, [t.schema])).toEqual([]);
      expect(await installProcedures(t.client, { procedures: fixture.procedures })).toMatchObject({ plv8: false, action: 'skipped' });
    } finally {
      await t.drop();
    }
  });
});
