/** Allocation versions: do they exist, are they computed, how far behind the ledger are they. */
import type pg from 'pg';
import { DomainError } from '../domain-error.ts';

export interface VersionInfo {
  allocation_version: number;
  method: string;
  description: string | null;
  allocations: string;
  dirty_symbols: string;
  stale_symbols: string;
}

const noSuchVersion = (version: number) =>
  new DomainError('no_such_version', 'no such allocation version (see fifo_allocation_versions)', String(version));

/** The version's method; DomainError no_such_version when it does not exist. */
export async function versionMethod(client: pg.Client, version: number): Promise<string> {
  const { rows } = await client.query<{ method: string }>(
    'SELECT method FROM fifo_allocation_versions WHERE allocation_version = $1', [version]);
  if (!rows[0]) throw noSuchVersion(version);
  return rows[0].method;
}

/** The version's pooling of lots (universal or per_account, migration 018). */
export async function versionPooling(client: pg.Client, version: number): Promise<string> {
  const { rows } = await client.query<{ pooling: string }>(
    'SELECT pooling FROM fifo_allocation_versions WHERE allocation_version = $1', [version]);
  if (!rows[0]) throw noSuchVersion(version);
  return rows[0].pooling;
}

/** The version, its method and whether its allocations are current; DomainError when it does not exist or was never computed. */
export async function versionInfo(client: pg.Client, version: number): Promise<VersionInfo> {
  const { rows } = await client.query<VersionInfo>(
    `SELECT v.allocation_version, v.method, v.description, h.allocations_total::text AS allocations,
            h.dirty_symbols::text AS dirty_symbols, h.stale_symbols::text AS stale_symbols
       FROM fifo_allocation_versions v JOIN v_allocation_health h USING (allocation_version)
      WHERE v.allocation_version = $1`, [version]);
  const v = rows[0];
  if (!v) throw noSuchVersion(version);
  if (v.allocations === '0') {
    const { rows: snap } = await client.query('SELECT 1 FROM fifo_inventory_snapshot WHERE allocation_version = $1 LIMIT 1', [version]);
    if (snap.length === 0) {
      throw new DomainError('version_not_computed', `version ${version} has not been computed (fifo compute --version ${version})`, String(version));
    }
  }
  return v;
}

/** Symbols of the version waiting for a recompute (dirty) or changed without a marker (stale). */
export function symbolsBehind(v: VersionInfo): number {
  return Number(v.dirty_symbols) + Number(v.stale_symbols);
}

export function behindText(v: VersionInfo): string {
  return `version ${v.allocation_version} is behind the ledger (${v.dirty_symbols} dirty, ${v.stale_symbols} stale symbol(s))`;
}

export async function dirtySymbolCount(client: pg.Client, version: number): Promise<number> {
  const { rows: [dirty] } = await client.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM fifo_dirty_symbols WHERE allocation_version = $1', [version]);
  return dirty?.n ?? 0;
}

export interface VersionRow {
  allocation_version: number;
  method: string;
  pooling: string;
  description: string | null;
  created_at: string;
  allocations: string;
}

/** Every version, with how many allocation rows it holds. */
export async function listVersions(client: pg.Client): Promise<VersionRow[]> {
  const { rows } = await client.query<VersionRow>(
    `SELECT v.allocation_version, v.method, v.pooling, v.description, to_char(v.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS created_at,
            (SELECT count(*) FROM fifo_allocations a WHERE a.allocation_version = v.allocation_version)::text AS allocations
       FROM fifo_allocation_versions v ORDER BY v.allocation_version`);
  return rows;
}

/**
 * Adds a version (number: the next free one when null); DomainError version_exists when taken.
 * Its partition and its dirty markers for every symbol come with it (migrations 005, 013).
 */
export async function addVersion(client: pg.Client, v: { number: number | null; method: string; pooling: string; description: string | null }): Promise<number> {
  const { rows } = await client.query<{ allocation_version: number }>(
    `INSERT INTO fifo_allocation_versions (allocation_version, method, pooling, description)
     SELECT coalesce($1::int, (SELECT coalesce(max(allocation_version), 0) + 1 FROM fifo_allocation_versions)), $2, $3, $4
     ON CONFLICT (allocation_version) DO NOTHING
     RETURNING allocation_version`, [v.number, v.method, v.pooling, v.description]);
  if (!rows[0]) throw new DomainError('version_exists', 'that allocation version already exists (fifo versions list)', String(v.number));
  return rows[0].allocation_version;
}
