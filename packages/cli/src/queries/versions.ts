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
