/**
 * Issues 12 and 15, the CLI spec: every command and action answers --help (exit 0) with every
 * flag its parser accepts; `fifo --version` is the package's; usage errors show the usage line;
 * `fifo install-procedures` installs and re-grants; `migrate up` defaults to the connection's
 * schema (the first of its search_path), not `public`.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCommand } from '../../packages/cli/src/cli/parse.ts';
import { COMMANDS, DEFAULT_MAX_LAG_MINUTES, REPORT_GROUPS, REVIEW_STATUSES, type CommandSpec } from '../../packages/cli/src/cli/spec.ts';
import { DEFAULT_BATCH_TRADES } from '../../packages/cli/src/compute/run-compute.ts';
import { GROUP_BY } from '../../packages/cli/src/report/query.ts';
import { runFifo } from '../helpers/cli.ts';
import { baseUrl, createTestSchema, urlWithSchema, type TestSchema } from '../helpers/db.ts';

const root = resolve(import.meta.dirname, '../..');
const specs = COMMANDS as Record<string, CommandSpec>;

/** [command, action or undefined, every flag the parser accepts there]. */
const targets: Array<[string, string | undefined, string[]]> = Object.entries(specs).flatMap(([name, c]) => [
  [name, undefined, [...Object.keys(c.flags ?? {}), ...Object.values(c.actions ?? {}).flatMap((a) => Object.keys(a.flags ?? {}))]] as [string, undefined, string[]],
  ...Object.entries(c.actions ?? {}).map(([a, leaf]) => [name, a, [...Object.keys(c.flags ?? {}), ...Object.keys(leaf.flags ?? {})]] as [string, string, string[]]),
]);

describe('help from the spec', () => {
  it('covers the commands the issues name', () => {
    for (const name of ['db', 'migrate', 'sample-ledger', 'demo', 'review', 'import', 'export', 'install-procedures', 'compute', 'watch']) {
      expect(Object.keys(specs)).toContain(name);
    }
  });

  it('`fifo CMD [ACTION] --help` and -h exit 0 with every flag the parser accepts there', async () => {
    // --help everywhere, -h on each command
    const runs = await Promise.all(targets.flatMap(([name, action, flags]) =>
      (action ? ['--help'] : ['--help', '-h']).map(async (h) => ({ name, action, flags, h, r: await runFifo([name, ...(action ? [action] : []), h]) }))));
    for (const { name, action, flags, h, r } of runs) {
      const what = `fifo ${name}${action ? ` ${action}` : ''} ${h}`;
      expect({ what, code: r.code, stderr: r.stderr }).toEqual({ what, code: 0, stderr: '' });
      expect(r.stdout, what).toMatch(new RegExp(`^usage: fifo ${name}\\b`));
      for (const f of flags) expect(r.stdout, `${what} lists --${f}`).toContain(`--${f}`);
      expect(r.stdout, what).toContain('-h, --help');
    }
  });

  it('the parser accepts exactly the flags the help lists (and refuses any other)', () => {
    for (const [name, action, flags] of targets) {
      if (action === undefined && specs[name]!.actions) continue;
      for (const f of flags) {
        // a flag the parser did not know would be "Unknown option"; a bad or missing value is fine here
        let message = '';
        try {
          parseCommand(name as keyof typeof COMMANDS, [...(action ? [action] : []), `--${f}=1`]);
        } catch (e) {
          message = (e as Error).message;
        }
        expect(message, `fifo ${name} ${action ?? ''} --${f}`).not.toMatch(/Unknown option/);
      }
      expect(() => parseCommand(name as keyof typeof COMMANDS, [...(action ? [action] : []), '--no-such-flag']))
        .toThrow(/Unknown option '--no-such-flag'/);
    }
  });

  it('the defaults the help states are the ones the code uses', () => {
    expect(COMMANDS.compute.flags['batch-trades'].help).toContain(`default: ${DEFAULT_BATCH_TRADES}`);
    expect([...REPORT_GROUPS]).toEqual([...GROUP_BY]);
    expect([...REVIEW_STATUSES]).toEqual(['pending', 'resolved', 'ignored', 'all']);
    expect(COMMANDS.health.flags['max-lag-minutes'].defaultText).toBe(String(DEFAULT_MAX_LAG_MINUTES));
  });

  it('`fifo --help` and `fifo help` list every command; `fifo help CMD` is its help', async () => {
    for (const args of [['--help'], ['help']]) {
      const r = await runFifo(args);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^usage: fifo <command>/);
      for (const name of Object.keys(specs)) expect(r.stdout).toMatch(new RegExp(`^  ${name}\\b`, 'm'));
    }
    const r = await runFifo(['help', 'review', 'resolve']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: fifo review resolve ID --note TEXT/);
  });

  it('`fifo --version` prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(resolve(root, 'packages/cli/package.json'), 'utf8')) as { version: string };
    const r = await runFifo(['--version']);
    expect(r).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('a usage error names the problem and shows the usage line, exit 2', async () => {
    for (const [args, message, usage] of [
      [['compute', '--bogus'], /Unknown option '--bogus' for fifo compute/, /usage: fifo compute /],
      [['compute', '--vresion', '2'], /did you mean --version\?/, /usage: fifo compute /],
      [['validate', '--limit'], /--limit needs a value/, /usage: fifo validate /],
      [['health', 'extra'], /unexpected argument "extra"/, /usage: fifo health /],
      [['review', 'show'], /missing review ID/, /usage: fifo review show ID/],
      [['import', 'coinbase', 'x.csv', '--map', 'a=b'], /--map does not apply to `fifo import coinbase` \(only to `fifo import csv`\)/, /usage: fifo import coinbase FILE.csv/],
      [['migrate'], /missing direction: up or down/, /usage: fifo migrate up/],
    ] as const) {
      const r = await runFifo(args);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toMatch(usage);
    }
  });
});

describe('fifo install-procedures', () => {
  let t: TestSchema;
  beforeAll(async () => {
    t = await createTestSchema({ prefix: 'inst' });
  });
  afterAll(() => t.drop());

  it('refreshes the procedures and re-applies the grants in the current schema', async () => {
    const [{ plv8 }] = (await t.query<{ plv8: boolean }>(`SELECT EXISTS (SELECT 1 FROM pg_language WHERE lanname = 'plv8') AS plv8`)) as [{ plv8: boolean }];
    // a grant someone added by hand: fifo_apply_security takes it back
    await t.query(`DO $$ DECLARE f regprocedure; BEGIN
                     SELECT p.oid INTO f FROM pg_proc p WHERE p.proname = 'fifo_mark_dirty' AND p.pronamespace = current_schema()::regnamespace LIMIT 1;
                     EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO PUBLIC', f); END $$`);
    const pub = () => t.query<{ pub: boolean }>(
      `SELECT bool_or(has_function_privilege('public', p.oid, 'EXECUTE')) AS pub FROM pg_proc p
        WHERE p.proname = 'fifo_mark_dirty' AND p.pronamespace = current_schema()::regnamespace`);
    expect(await pub()).toEqual([{ pub: true }]);
    const r = await runFifo(['install-procedures'], { DATABASE_URL: t.url });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`schema ${t.schema}`);
    expect(r.stdout).toMatch(plv8 ? /PLV8 procedures (installed|already current)/ : /PLV8 is not installed .*the procedures run in the Node host/);
    expect(r.stdout).toMatch(/grants re-applied/);
    expect(await pub()).toEqual([{ pub: false }]);
  });

  it('refuses a schema that is not migrated (exit 2), naming it', async () => {
    const bare = await createTestSchema({ migrated: false, prefix: 'instbare' });
    try {
      const r = await runFifo(['install-procedures', '--schema', bare.schema], { DATABASE_URL: t.url });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`schema ${bare.schema} is not migrated`);
      const r2 = await runFifo(['install-procedures', '--schema', 'Bad-Name'], { DATABASE_URL: t.url });
      expect(r2.code).toBe(2);
      expect(r2.stderr).toContain('--schema must be a plain lower-case identifier, got "Bad-Name"');
    } finally {
      await bare.drop();
    }
  });
});

describe('migrate up without --schema', () => {
  // A database of its own: were the default still `public`, the migration would land in
  // the public schema of the shared test database.
  const db = `fifo_spec_${randomBytes(4).toString('hex')}`;
  const admin = () => new pg.Client({ connectionString: baseUrl() });
  const dbUrl = () => {
    const u = new URL(baseUrl());
    u.pathname = `/${db}`;
    return u.toString();
  };
  beforeAll(async () => {
    const c = admin();
    await c.connect();
    await c.query(`CREATE DATABASE ${db}`);
    await c.end();
  });
  afterAll(async () => {
    const c = admin();
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    await c.end();
  });

  it("migrates the connection's schema, the first of its search_path", async () => {
    const r = await runFifo(['migrate', 'up'], { DATABASE_URL: urlWithSchema(dbUrl(), 'ledger_app') });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/\(schema ledger_app\)/);
    const c = new pg.Client({ connectionString: dbUrl() });
    await c.connect();
    try {
      const { rows } = await c.query(`SELECT to_regclass('ledger_app.trade_records') IS NOT NULL AS here,
                                             to_regclass('public.trade_records') IS NOT NULL AS public`);
      expect(rows).toEqual([{ here: true, public: false }]);
    } finally {
      await c.end();
    }
  });
});
