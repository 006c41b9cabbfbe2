/**
 * The embedded PostgreSQL cluster: a private data directory, port and unix socket
 * per checkout, run with the system's PostgreSQL server binaries. As root, initdb and
 * pg_ctl run as the `postgres` user (initdb refuses root).
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { homedir } from 'node:os';
import { CliError } from '../errors.ts';
import { repoRoot } from '../paths.ts';

const SUPERUSER = 'fifo';
const DATABASE = 'fifo';
const SERVICE_USER = 'postgres';

export interface ClusterLayout {
  home: string;
  dataDir: string;
  socketDir: string;
  logFile: string;
  port: number;
  bindir: string | null;
}

const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;

/** Port derived from the checkout path, so two checkouts on one machine never collide. */
function defaultPort(home: string): number {
  const h = createHash('sha256').update(home).digest();
  return 54_000 + (h.readUInt16BE(0) % 1_000);
}

function findBindir(): string | null {
  const override = process.env.FIFO_PG_BINDIR;
  if (override) return existsSync(join(override, 'initdb')) ? override : null;
  const major = process.env.FIFO_PG_MAJOR;
  const roots = ['/usr/lib/postgresql'];
  for (const root of roots) {
    if (!existsSync(root)) continue;
    const versions = readdirSync(root)
      .filter((v) => /^\d+$/.test(v) && (!major || v === major))
      .sort((a, b) => Number(b) - Number(a));
    for (const v of versions) {
      const dir = join(root, v, 'bin');
      if (existsSync(join(dir, 'initdb'))) return dir;
    }
  }
  for (const dir of ['/usr/local/pgsql/bin', '/usr/pgsql/bin', '/opt/homebrew/bin', '/usr/local/bin', '/usr/bin']) {
    if (existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'))) return dir;
  }
  return null;
}

/** Whether the postgres service user can reach `dir` (a root-owned 0700 parent would stop it). */
function serviceUserCanUse(dir: string): boolean {
  const r = spawnSync('runuser', ['-u', SERVICE_USER, '--', 'test', '-x', dir], { stdio: 'ignore' });
  return r.status === 0;
}

// Set by the npm package's build: an installed package's folder is no place for a cluster.
declare const __FIFO_PACKAGED__: boolean | undefined;

export function clusterLayout(): ClusterLayout {
  const defaultHome = typeof __FIFO_PACKAGED__ === 'boolean' ? join(homedir(), '.fifo-ledger') : join(repoRoot, '.fifo');
  let home = process.env.FIFO_HOME ?? defaultHome;
  if (!process.env.FIFO_HOME && isRoot()) {
    mkdirSync(home, { recursive: true });
    if (!serviceUserCanUse(home)) {
      const tag = createHash('sha256').update(repoRoot).digest('hex').slice(0, 12);
      home = join('/var/tmp', `fifo-ledger-${tag}`);
    }
  }
  const port = Number(process.env.FIFO_PG_PORT ?? defaultPort(home));
  return {
    home,
    dataDir: join(home, 'pgdata'),
    socketDir: join(home, 'run'),
    logFile: join(home, 'postgres.log'),
    port,
    bindir: findBindir(),
  };
}

export function embeddedUrl(layout: ClusterLayout = clusterLayout()): string {
  return `postgres://${SUPERUSER}@127.0.0.1:${layout.port}/${DATABASE}`;
}

/** The database every command uses: DATABASE_URL when set, else the embedded cluster. */
export function databaseUrl(): string {
  return process.env.DATABASE_URL || embeddedUrl();
}

function requireBindir(layout: ClusterLayout): string {
  if (layout.bindir) return layout.bindir;
  throw new CliError(
    'PostgreSQL server binaries (initdb, pg_ctl) not found. Install them — Debian/Ubuntu: ' +
      '`sudo apt-get install postgresql-15`, macOS: `brew install postgresql@15` — or set FIFO_PG_BINDIR ' +
      'to their directory, or set DATABASE_URL to use an existing server.',
  );
}

function run(layout: ClusterLayout, tool: string, args: string[]): SpawnSyncReturns<string> {
  const bin = join(requireBindir(layout), tool);
  const r = isRoot()
    ? spawnSync('runuser', ['-u', SERVICE_USER, '--', bin, ...args], { encoding: 'utf8' })
    : spawnSync(bin, args, { encoding: 'utf8' });
  if (r.error) throw new CliError(`could not run ${bin}: ${r.error.message}`);
  return r;
}

function ensureDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (isRoot()) {
    const pw = spawnSync('id', ['-u', SERVICE_USER], { encoding: 'utf8' });
    const gw = spawnSync('id', ['-g', SERVICE_USER], { encoding: 'utf8' });
    if (pw.status !== 0) {
      throw new CliError(`running as root needs the '${SERVICE_USER}' user to own the cluster; install the postgresql package or run as a normal user`);
    }
    chownSync(dir, Number(pw.stdout.trim()), Number(gw.stdout.trim()));
  }
}

function hasPgCron(layout: ClusterLayout): boolean {
  return layout.bindir !== null && existsSync(join(layout.bindir, '..', 'lib', 'pg_cron.so'));
}

export function isInitialized(layout: ClusterLayout): boolean {
  return existsSync(join(layout.dataDir, 'PG_VERSION'));
}

export function isRunning(layout: ClusterLayout): boolean {
  if (!isInitialized(layout) || !layout.bindir) return false;
  return run(layout, 'pg_ctl', ['-D', layout.dataDir, 'status']).status === 0;
}

function initdb(layout: ClusterLayout): void {
  ensureDir(layout.home);
  ensureDir(layout.dataDir);
  ensureDir(layout.socketDir);
  // C collation: text order equals JavaScript's code-unit order, which the engine's
  // processing order (order_id tie-break) relies on.
  const r = run(layout, 'initdb', [
    '-D', layout.dataDir, '-U', SUPERUSER, '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync',
  ]);
  if (r.status !== 0) throw new CliError(`initdb failed:\n${r.stderr || r.stdout}`, 1);
}

export interface StartResult { url: string; started: boolean; initialized: boolean }

export async function startCluster(): Promise<StartResult> {
  const layout = clusterLayout();
  requireBindir(layout);
  let initialized = false;
  if (!isInitialized(layout)) {
    initdb(layout);
    initialized = true;
  }
  let started = false;
  if (!isRunning(layout)) {
    ensureDir(layout.socketDir);
    const opts = [
      `-p ${layout.port}`,
      `-k ${layout.socketDir}`,
      "-c listen_addresses='127.0.0.1'",
      '-c max_connections=200',
      '-c shared_buffers=256MB',
      '-c work_mem=32MB',
      '-c maintenance_work_mem=256MB',
      '-c max_wal_size=4GB',
      '-c fsync=off',
      '-c synchronous_commit=off',
      '-c full_page_writes=off',
      // pg_cron, when its package is there, so `fifo_run` can be scheduled in the database
      ...(hasPgCron(layout) ? ['-c shared_preload_libraries=pg_cron', `-c cron.database_name=${DATABASE}`] : []),
    ].join(' ');
    if (isRoot() && existsSync(layout.logFile)) {
      const st = statSync(layout.logFile);
      if (st.uid === 0) spawnSync('chown', [SERVICE_USER, layout.logFile]);
    }
    const r = run(layout, 'pg_ctl', ['-D', layout.dataDir, '-l', layout.logFile, '-o', opts, '-w', '-t', '60', 'start']);
    if (r.status !== 0) {
      throw new CliError(`pg_ctl start failed (see ${layout.logFile}):\n${r.stderr || r.stdout}`, 1);
    }
    started = true;
  }
  await ensureDatabase(layout);
  return { url: embeddedUrl(layout), started, initialized };
}

async function ensureDatabase(layout: ClusterLayout): Promise<void> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: embeddedUrl(layout).replace(/\/[^/]+$/, '/postgres') });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [DATABASE]);
    if (!rowCount) await client.query(`create database ${DATABASE}`);
  } finally {
    await client.end();
  }
}

export function stopCluster(): boolean {
  const layout = clusterLayout();
  if (!isRunning(layout)) return false;
  const r = run(layout, 'pg_ctl', ['-D', layout.dataDir, '-m', 'fast', '-w', 'stop']);
  if (r.status !== 0) throw new CliError(`pg_ctl stop failed:\n${r.stderr || r.stdout}`, 1);
  return true;
}

export function clusterStatus(): { layout: ClusterLayout; initialized: boolean; running: boolean; url: string } {
  const layout = clusterLayout();
  return { layout, initialized: isInitialized(layout), running: isRunning(layout), url: embeddedUrl(layout) };
}
