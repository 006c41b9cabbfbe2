/**
 * `pnpm build:plv8 [--check] [--minify]`: bundles functions/index.ts into PLV8 procedures and
 * writes packages/plv8/generated/procedures.json, the one checked-in copy of the bundle
 * (installProcedures() installs it; no migration holds it). With --check, writes nothing and
 * exits 1 when the checked-in file differs from a fresh build.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BuildError, buildProcedures, type BuildResult } from './generate.ts';
import { generatedProceduresPath, repoRoot } from './procedures.ts';

export interface Outputs {
  files: Array<{ path: string; content: string }>;
  result: BuildResult;
}

export async function buildOutputs(opts: { repoRoot?: string; entry?: string; minify?: boolean; proceduresPath?: string } = {}): Promise<Outputs> {
  const root = opts.repoRoot ?? repoRoot;
  const result = await buildProcedures({ repoRoot: root, ...(opts.entry ? { entry: opts.entry } : {}), ...(opts.minify ? { minify: true } : {}) });
  return {
    result,
    files: [{ path: opts.proceduresPath ?? generatedProceduresPath, content: result.json }],
  };
}

/** Paths whose checked-in content differs from `outputs` (missing files included). */
export function drift(outputs: Outputs): string[] {
  return outputs.files
    .filter((f) => !existsSync(f.path) || readFileSync(f.path, 'utf8') !== f.content)
    .map((f) => f.path);
}

export function writeOutputs(outputs: Outputs): void {
  for (const f of outputs.files) {
    mkdirSync(dirname(f.path), { recursive: true });
    writeFileSync(f.path, f.content);
  }
}

const USAGE = 'usage: pnpm build:plv8 [--check] [--minify] [--entry FILE] [--procedures FILE]';

async function main(argv: string[]): Promise<number> {
  const flags = new Set<string>();
  const values: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--check' || a === '--minify') flags.add(a);
    else if ((a === '--entry' || a === '--procedures') && argv[i + 1] !== undefined) values[a] = argv[++i] as string;
    else {
      process.stderr.write(`build:plv8: unexpected argument ${a}\n${USAGE}\n`);
      return 2;
    }
  }
  const check = flags.has('--check');
  let outputs: Outputs;
  try {
    outputs = await buildOutputs({
      minify: flags.has('--minify'),
      ...(values['--entry'] ? { entry: resolve(values['--entry']) } : {}),
      ...(values['--procedures'] ? { proceduresPath: resolve(values['--procedures']) } : {}),
    });
  } catch (e) {
    if (e instanceof BuildError) {
      process.stderr.write(`build:plv8: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  const rel = (p: string) => relative(repoRoot, p);
  const { result } = outputs;
  if (check) {
    const stale = drift(outputs);
    if (stale.length > 0) {
      process.stderr.write(`build:plv8 --check: out of date (run \`pnpm build:plv8\` and commit):\n${stale.map((p) => `  ${rel(p)}`).join('\n')}\n`);
      return 1;
    }
    process.stdout.write(`build:plv8 --check: up to date (bundle ${result.bundleId.slice(0, 12)}, ${result.procedures.length} procedures)\n`);
    return 0;
  }
  writeOutputs(outputs);
  process.stdout.write(
    `build:plv8: bundle ${result.bundleId.slice(0, 12)} (${result.bundle.length} bytes), ${result.procedures.length} procedure(s): ` +
      `${result.procedures.map((p) => p.name).join(', ')}\n${outputs.files.map((f) => `  wrote ${rel(f.path)}`).join('\n')}\n`,
  );
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`build:plv8: ${(e as Error).stack ?? e}\n`);
      process.exit(1);
    },
  );
}
