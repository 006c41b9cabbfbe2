/**
 * Keeps the installed PLV8 functions in step with the generated bundle. Migration 004 installs
 * the functions once; an applied migration never re-runs, so runners call installProcedures()
 * after migrating: it re-creates the functions when the installed bundle id differs.
 */
import { COMMENT_PREFIX, functionDdl, signatureOf } from './generate.ts';
import { quoteIdent } from './host/convert.ts';
import { isSetReturning, loadGeneratedProcedures, returnShape, type GeneratedProcedure } from './procedures.ts';

/** Anything with pg's `query(text, values) → { rows }` (pg.Client, pg.PoolClient, pg.Pool). */
export interface Queryable {
  query(sql: string, params?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
}

export interface InstallOptions {
  procedures?: readonly GeneratedProcedure[];
  /** Re-create even when the installed bundle id matches. */
  force?: boolean;
  /**
   * Skip the "is PLV8 installed" check (tests install under a stand-in language). Default:
   * install only when the plv8 language exists in the database.
   */
  assumePlv8?: boolean;
}

export interface InstallResult {
  /** Whether PLV8 is available in the database; when false nothing was done. */
  plv8: boolean;
  bundleId: string | null;
  /** 'current': already installed; 'installed': functions (re)created; 'skipped': no PLV8. */
  action: 'current' | 'installed' | 'skipped';
  created: string[];
  dropped: string[];
}

/**
 * Installs the generated PLV8 functions in the current schema (the first schema of the
 * session's search_path, which each function pins with SET search_path FROM CURRENT) unless
 * the functions of this bundle are already there. Functions of an older bundle that the new
 * one no longer has are dropped. Runs as one statement list: atomic on its own, or part of the
 * caller's open transaction.
 */
export async function installProcedures(client: Queryable, opts: InstallOptions = {}): Promise<InstallResult> {
  const procs = opts.procedures ?? loadGeneratedProcedures();
  const bundleId = procs[0]?.bundleId ?? null;
  if (!opts.assumePlv8) {
    const { rows } = await client.query(`SELECT EXISTS (SELECT 1 FROM pg_language WHERE lanname = 'plv8') AS ok`);
    if (rows[0]?.ok !== true) return { plv8: false, bundleId, action: 'skipped', created: [], dropped: [] };
  }
  const { rows: installed } = await client.query(
    `SELECT p.oid::regprocedure::text AS sig, obj_description(p.oid, 'pg_proc') AS comment,
            pg_get_function_result(p.oid) AS result
       FROM pg_proc p
      WHERE p.pronamespace = current_schema()::regnamespace
        AND obj_description(p.oid, 'pg_proc') LIKE $1`,
    [`${COMMENT_PREFIX}%`],
  );
  // Normalised signatures and result types of the new functions (NULL when a type does not exist).
  const { rows: wanted } = await client.query(
    `SELECT to_regprocedure(s)::text AS sig FROM unnest($1::text[]) WITH ORDINALITY AS u(s, i) ORDER BY i`,
    [procs.map((p) => signatureOf(p))],
  );
  const typeNames = [...new Set(procs.flatMap((p) => {
    const shape = returnShape(p);
    return shape.kind === 'scalar' ? [shape.type] : shape.kind === 'table' ? shape.columns.map((c) => c[1]) : [];
  }))];
  const { rows: formatted } = await client.query(
    `SELECT t, format_type(to_regtype(t), NULL) AS f FROM unnest($1::text[]) t`, [typeNames]);
  const fmt = new Map(formatted.map((r) => [String(r.t), r.f === null ? null : String(r.f)]));
  const resultOf = (p: GeneratedProcedure): string | null => {
    const shape = returnShape(p);
    if (shape.kind === 'void') return 'void';
    if (shape.kind === 'scalar') {
      const f = fmt.get(shape.type);
      return f == null ? null : `${isSetReturning(p) ? 'SETOF ' : ''}${f}`;
    }
    const cols = shape.columns.map(([n, t]) => (fmt.get(t) == null ? null : `${quoteIdent(n)} ${fmt.get(t)}`));
    return cols.includes(null) ? null : `TABLE(${cols.join(', ')})`;
  };
  wanted.forEach((w, i) => {
    w.result = resultOf(procs[i] as GeneratedProcedure);
  });
  const current = new Map(installed.map((r) => [String(r.sig), r]));
  const upToDate = procs.length > 0 && wanted.every((w) => {
    const have = w.sig === null ? undefined : current.get(String(w.sig));
    return have !== undefined && have.comment === `${COMMENT_PREFIX}${bundleId}`;
  }) && installed.length === procs.length;
  if (upToDate && !opts.force) return { plv8: true, bundleId, action: 'current', created: [], dropped: [] };

  // Drop what the new bundle lacks, and what cannot be replaced in place (changed result type).
  const keep = new Set<string>();
  for (const w of wanted) {
    if (w.sig === null) continue;
    const have = current.get(String(w.sig));
    if (have && w.result !== null && have.result === w.result) keep.add(String(w.sig));
  }
  const dropped = installed.map((r) => String(r.sig)).filter((s) => !keep.has(s));
  const statements = [
    `SELECT pg_advisory_xact_lock(hashtext('fifo-ledger:install-plv8'))`,
    ...dropped.map((s) => `DROP FUNCTION IF EXISTS ${s}`),
    ...procs.map((p) => functionDdl(p).replace(/;$/, '')),
  ];
  await client.query(`${statements.join(';\n')};`);
  return { plv8: true, bundleId, action: 'installed', created: procs.map((p) => signatureOf(p)), dropped };
}
