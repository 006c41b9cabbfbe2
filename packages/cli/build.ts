/**
 * Compiles the `fifo` CLI into one file, packages/cli/dist/fifo.mjs, runnable with plain
 * `node` (no pnpm, no tsx): the CLI and its libraries (pg, node-pg-migrate) bundled, with the
 * Node PLV8 host's worker and runtime, and the thread that runs a host with PLV8's heap limit,
 * prebuilt into it. esbuild stays out: only the sources need it (to bundle the host at run time).
 *
 *   pnpm build:cli      (npm test and npm run demo build it first)
 *
 * `packaged`: the file of the npm package (packages/cli/pack.ts), which finds its migrations and
 * procedures beside itself instead of in a checkout.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { runtimeBuild, workerBuild } from '@fifo-ledger/plv8/host/sources';
import { hostThreadBuild } from './src/compute/host-thread.ts';

const cliRoot = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(cliRoot, '..', '..');
export const binPath = join(cliRoot, 'dist', 'fifo.mjs');
/** Where the packaged CLI keeps the procedures, from its own folder. */
export const PACKAGED_PROCEDURES = 'procedures.json';

/**
 * pg asks whether it runs on Cloudflare: without a global `navigator` (Node 20 has none) it
 * builds a `Response`, which loads Node's fetch implementation, undici (~30 ms in each thread at
 * start-up). Node 21+ answers through `navigator.userAgent`; the bundles answer the same way.
 */
const NODE_NAVIGATOR = {
  define: { navigator: '__fifo_navigator' },
  banner: "var __fifo_navigator = { userAgent: 'Node.js' };",
};

/**
 * pg loads node:crypto (and its webcrypto) when it is required, for password authentication
 * only: ~5 ms of every start of the host's database thread, which a one-shot run waits for.
 * Its crypto module is bundled behind a proxy that requires it at its first use instead.
 */
const PG_CRYPTO_LATER: esbuild.Plugin = {
  name: 'fifo-pg-crypto-later',
  setup(build) {
    build.onResolve({ filter: /^\.\/(crypto\/)?utils$/ }, (args) => {
      const real = join(args.resolveDir, `${args.path}.js`);
      if (!/[\\/]pg[\\/]lib[\\/]crypto[\\/]utils\.js$/.test(real)) return undefined;
      return { path: real, namespace: 'fifo-pg-crypto-later' };
    });
    build.onLoad({ filter: /.*/, namespace: 'fifo-pg-crypto-later' }, (args) => ({
      contents: `let real;\nmodule.exports = new Proxy({}, { get: (_, k) => (real ??= require(${JSON.stringify(args.path)}))[k] });\n`,
      loader: 'js',
      resolveDir: dirname(args.path),
    }));
  },
};

/**
 * The CLI's own uses of node:crypto (a hash for the embedded cluster's files, a MIME boundary)
 * are rare; an ESM import of it would load it (~5 ms) before any of the CLI's code runs. These
 * wrappers load it at their first call. A name not listed here fails the build.
 */
const CRYPTO_LATER_NAMES = ['createHash', 'randomBytes'] as const;
const CRYPTO_LATER: esbuild.Plugin = {
  name: 'fifo-crypto-later',
  setup(build) {
    build.onResolve({ filter: /^(node:)?crypto$/ }, (args) =>
      (args.kind === 'import-statement' && !/[\\/]node_modules[\\/]/.test(args.importer)
        ? { path: 'node:crypto', namespace: 'fifo-crypto-later' } : undefined));
    build.onLoad({ filter: /.*/, namespace: 'fifo-crypto-later' }, () => ({
      contents: `let real;\nconst crypto = () => (real ??= require('node:crypto'));\n${
        CRYPTO_LATER_NAMES.map((n) => `export const ${n} = (...args) => crypto().${n}(...args);`).join('\n')}\n`,
      loader: 'js',
    }));
  },
};

function text(options: esbuild.BuildOptions): string {
  return esbuild.buildSync({ ...options, write: false }).outputFiles?.[0]?.text ?? '';
}

/** Code that runs as Node (not in the PLV8 context, whose globals must stay PLV8's). */
async function nodeText(options: esbuild.BuildOptions): Promise<string> {
  const result = await esbuild.build({
    ...options,
    define: { ...options.define, ...NODE_NAVIGATOR.define },
    banner: { js: `${options.banner?.js ?? ''}\n${NODE_NAVIGATOR.banner}` },
    plugins: [...(options.plugins ?? []), PG_CRYPTO_LATER],
    write: false,
  });
  return result.outputFiles?.[0]?.text ?? '';
}

export interface BuildCliOptions {
  packaged?: boolean;
}

export async function buildCli(out: string = binPath, opts: BuildCliOptions = {}): Promise<void> {
  const rootFromBundle = JSON.stringify(opts.packaged ? '.' : relative(dirname(out), repoRoot) || '.');
  const packaged: Record<string, string> = opts.packaged
    ? { __FIFO_PROCEDURES_FROM_ROOT__: JSON.stringify(PACKAGED_PROCEDURES), __FIFO_PACKAGED__: 'true' }
    : {};
  const hostWorker = JSON.stringify(await nodeText({
    ...workerBuild(), external: ['pg-native'], define: { __FIFO_WORKER_BUNDLES_PG__: 'true' },
  }));
  const hostRuntime = JSON.stringify(text(runtimeBuild()));
  const thread = hostThreadBuild();
  const hostThread = JSON.stringify(await nodeText({
    ...thread,
    external: ['pg-native', 'esbuild'],
    define: { ...thread.define, __FIFO_HOST_WORKER__: hostWorker, __FIFO_HOST_RUNTIME__: hostRuntime, __FIFO_ROOT_FROM_BUNDLE__: rootFromBundle },
  }));
  const result = await esbuild.build({
    entryPoints: [join(cliRoot, 'src', 'main.ts')],
    outfile: out,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['esbuild', 'pg-native'],
    // Some bundled CommonJS (pg) calls require(): give the ESM bundle one.
    banner: { js: `import { createRequire as __fifoCreateRequire } from 'node:module'; const require = __fifoCreateRequire(import.meta.url);\n${NODE_NAVIGATOR.banner}` },
    define: {
      ...NODE_NAVIGATOR.define,
      __FIFO_HOST_WORKER__: hostWorker,
      __FIFO_HOST_RUNTIME__: hostRuntime,
      __FIFO_HOST_THREAD__: hostThread,
      __FIFO_ROOT_FROM_BUNDLE__: rootFromBundle,
      ...packaged,
    },
    legalComments: 'none',
    logLevel: 'warning',
    plugins: [PG_CRYPTO_LATER, CRYPTO_LATER],
    write: false,
  });
  const code = result.outputFiles[0]?.text ?? '';
  mkdirSync(dirname(out), { recursive: true });
  // main.ts's shebang survives bundling; make sure exactly one leads the file.
  writeFileSync(out, code.startsWith('#!') ? code : `#!/usr/bin/env node\n${code}`);
  chmodSync(out, 0o755);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildCli();
  console.log(`built ${relative(process.cwd(), binPath)}`);
}
