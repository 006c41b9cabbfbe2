/**
 * The npm package of the CLI: `pnpm pack:cli` → packages/cli/dist/fifo-ledger-<version>.tgz,
 * which `npm install -g` turns into a `fifo` on PATH (plain node, no dependency to fetch: the
 * bundle holds pg and node-pg-migrate). It carries the migrations and the procedures beside the
 * bundle, so an installed `fifo migrate up` installs the same schema as the checkout.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatedProceduresPath, repoRoot } from '@fifo-ledger/plv8/procedures';
import { buildCli, PACKAGED_PROCEDURES } from './build.ts';

const cliRoot = dirname(fileURLToPath(import.meta.url));
const distDir = join(cliRoot, 'dist');

/** Builds the package's folder and packs it; returns the tarball's path. */
export async function packCli(dest: string = distDir): Promise<string> {
  const root = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version?: string; description?: string; engines?: unknown };
  const cli = JSON.parse(readFileSync(join(cliRoot, 'package.json'), 'utf8')) as { version: string };
  const stage = join(distDir, 'package');
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(join(stage, 'migrations'), { recursive: true });
  await buildCli(join(stage, 'fifo.mjs'), { packaged: true });
  for (const f of readdirSync(join(repoRoot, 'migrations')).filter((n) => n.endsWith('.sql'))) {
    copyFileSync(join(repoRoot, 'migrations', f), join(stage, 'migrations', f));
  }
  copyFileSync(generatedProceduresPath, join(stage, PACKAGED_PROCEDURES));
  copyFileSync(join(repoRoot, 'README.md'), join(stage, 'README.md'));
  writeFileSync(join(stage, 'package.json'), `${JSON.stringify({
    name: 'fifo-ledger',
    version: cli.version,
    description: root.description,
    type: 'module',
    bin: { fifo: 'fifo.mjs' },
    files: ['fifo.mjs', 'migrations', PACKAGED_PROCEDURES, 'README.md'],
    engines: root.engines,
  }, null, 2)}\n`);
  mkdirSync(dest, { recursive: true });
  const r = spawnSync('npm', ['pack', '--silent', '--pack-destination', dest], { cwd: stage, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm pack failed: ${(r.stderr || r.stdout).trim()}`);
  return join(dest, r.stdout.trim().split('\n').pop()!);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(`packed ${relative(process.cwd(), await packCli())}`);
}
