/**
 * The compiled CLI (packages/cli/build.ts → one .mjs file) runs with plain node, from any
 * directory, without pnpm or tsx: it migrates, computes in the Node host (its worker and
 * runtime prebuilt) and validates, writing the same rows as the CLI run from source.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli } from '../../packages/cli/build.ts';
import { packCli } from '../../packages/cli/pack.ts';
import { allocationChecksum } from '../helpers/allocations.ts';
import { runFifo } from '../helpers/cli.ts';
import { testHost } from '../helpers/host.ts';
import { createTestSchema, type TestSchema } from '../helpers/db.ts';

describe('the compiled fifo CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fifo-bin-'));
  const bin = join(dir, 'fifo.mjs');
  let t: TestSchema;
  beforeAll(async () => {
    await buildCli(bin);
    t = await createTestSchema({ migrated: false, prefix: 'bin' });
  });
  afterAll(() => t.drop());

  // PATH without pnpm's and tsx's folders; cwd outside the checkout.
  const run = (args: string[]) => spawnSync(process.execPath, [bin, ...args], {
    cwd: dir, encoding: 'utf8', env: { PATH: '/usr/bin:/bin', DATABASE_URL: t.url, HOME: dir },
  });

  it('prints its usage with exit 0', () => {
    const r = run(['--help']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^usage: fifo <command>/);
    expect(r.status).toBe(0);
  });

  it('migrates, computes in the Node host and validates; the rows equal the source CLI\'s', async () => {
    const migrated = run(['migrate', 'up', '--schema', t.schema]);
    expect(migrated.status, migrated.stderr).toBe(0);
    const sampled = run(['sample-ledger', '--trades', '3000', '--symbols', '6', '--oversell-rate', '0.05']);
    expect(sampled.status, sampled.stderr).toBe(0);
    const computed = run(['compute', '--host', testHost()]);
    expect(computed.status, computed.stderr).toBe(0);
    expect(computed.stdout).toMatch(/success/);
    expect(run(['validate']).status).toBe(0);
    const compiled = await allocationChecksum(t, 1);
    const fromSource = await runFifo(['compute', '--force', '--host', testHost()], { DATABASE_URL: t.url });
    expect(fromSource.code).toBe(0);
    expect(await allocationChecksum(t, 1)).toEqual(compiled);
    expect(compiled.rows).toBeGreaterThan(1000);
  });

  it('packs into a tarball that `npm install -g` turns into a working fifo on PATH, with nothing to fetch', async () => {
    const tarball = await packCli(dir);
    const prefix = join(dir, 'global');
    const installed = spawnSync('npm', ['install', '-g', '--offline', '--no-audit', '--no-fund', '--prefix', prefix, tarball], { cwd: dir, encoding: 'utf8' });
    expect(installed.status, installed.stderr).toBe(0);
    const s = await createTestSchema({ migrated: false, prefix: 'pkg' });
    try {
      // only the installed bin and the system's tools on PATH; cwd and HOME outside the checkout
      const fifo = (args: string[]) => spawnSync('fifo', args, {
        cwd: dir, encoding: 'utf8', env: { PATH: `${join(prefix, 'bin')}:/usr/bin:/bin`, DATABASE_URL: s.url, HOME: dir },
      });
      expect(fifo(['--version']).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
      const migrated = fifo(['migrate', 'up', '--schema', s.schema]);
      expect(migrated.status, migrated.stderr).toBe(0);
      expect(migrated.stderr).toMatch(/015_pnl_figures/);
      expect(fifo(['sample-ledger', '--trades', '1500', '--symbols', '3']).status).toBe(0);
      const computed = fifo(['compute', '--host', testHost()]);
      expect(computed.status, computed.stderr).toBe(0);
      expect(computed.stdout).toMatch(/success/);
      const validated = fifo(['validate']);
      expect(validated.status, validated.stdout + validated.stderr).toBe(0);
      expect((await allocationChecksum(s, 1)).rows).toBeGreaterThan(500);
    } finally {
      await s.drop();
    }
  });
});
