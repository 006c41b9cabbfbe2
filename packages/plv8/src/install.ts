/**
 * Installs the PLV8 functions of the generated bundle (generated/procedures.json) and keeps
 * them in step with it: no migration holds the bundle (004 only drops it on down), so
 * `fifo migrate up` (after migrating) and `fifo install-procedures` call installProcedures(),
 * which (re-)creates the functions when the installed bundle id differs. Without PLV8 it keeps
 * the stand-ins of migration 009 in step with the bundle's signatures. Either way it then
 * re-applies the schema's pins and grants (fifo_apply_security(), 009).
 */
import { COMMENT_PREFIX, functionDdl, returnsClause, signatureOf } from './generate.ts';
import { quoteIdent, quoteLiteral } from './host/convert.ts';
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
  /**
   * Where the plv8 language is missing but the server offers the extension, try
   * `CREATE EXTENSION plv8` first (a role that may not gets a NOTICE, not an error). Default true.
   */
  createExtension?: boolean;
}

export interface InstallResult {
  /** Whether PLV8 is available in the database; when false nothing was done. */
  plv8: boolean;
  bundleId: string | null;
  /** 'current': already installed; 'installed': functions (re)created; 'skipped': no PLV8. */
  action: 'current' | 'installed' | 'skipped';
  created: string[];
  dropped: string[];
  /** Stand-ins created (no PLV8) or dropped (replaced by the PLV8 functions). */
  standIns: { created: string[]; dropped: string[] };
  /** Whether fifo_apply_security() ran (it does after any change, when the schema has it). */
  securityApplied: boolean;
}

/** Creates the plv8 extension where it is available and missing and the role may; else a NOTICE. */
const CREATE_EXTENSION = `DO $fifo_plv8_extension$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_language WHERE lanname = 'plv8')
     AND EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'plv8') THEN
    BEGIN
      CREATE EXTENSION IF NOT EXISTS plv8;
    EXCEPTION WHEN insufficient_privilege THEN
      RAISE NOTICE 'plv8 is available but % may not create it (%)', current_user, SQLERRM;
    END;
  END IF;
END
$fifo_plv8_extension$`;

/** COMMENT ON FUNCTION of the SQL stand-ins that migration 009 creates where PLV8 is missing. */
export const STAND_IN_COMMENT = 'fifo-ledger stand-in: PLV8 is not installed';

/** A plpgsql function with the procedure's signature that says PLV8 is missing (009's message). */
export function standInDdl(p: GeneratedProcedure, searchPath: string): string {
  const args = p.args.map(([n, t]) => `${quoteIdent(n)} ${t}`).join(', ');
  // plpgsql: a set, a table or void returns with a bare RETURN, a scalar with a value
  const ret = isSetReturning(p) || returnShape(p).kind !== 'scalar' ? 'RETURN;' : 'RETURN NULL;';
  return [
    `CREATE OR REPLACE FUNCTION ${quoteIdent(p.name)}(${args}) RETURNS ${returnsClause(p)} LANGUAGE plpgsql`,
    `  SET search_path TO ${searchPath}`,
    `AS $fifo_stand_in$ BEGIN PERFORM fifo_plv8_missing(${quoteLiteral(p.name)}, 'PLV8'); ${ret} END $fifo_stand_in$;`,
    `COMMENT ON FUNCTION ${signatureOf(p)} IS ${quoteLiteral(STAND_IN_COMMENT)}`,
  ].join('\n');
}

/**
 * Installs the generated PLV8 functions in the current schema (the first schema of the
 * session's search_path; each function pins `SET search_path TO <schema>, pg_temp`) unless the
 * functions of this bundle are already there. Functions of an older bundle that the new one no
 * longer has are dropped, and so are the stand-ins of a database that had no PLV8. Without
 * PLV8, keeps the stand-ins in step with the bundle instead. Runs as one statement list:
 * atomic on its own, or part of the caller's open transaction.
 */
export async function installProcedures(client: Queryable, opts: InstallOptions = {}): Promise<InstallResult> {
  const procs = opts.procedures ?? loadGeneratedProcedures();
  const bundleId = procs[0]?.bundleId ?? null;
  if (!opts.assumePlv8 && opts.createExtension !== false) await client.query(CREATE_EXTENSION);
  const { rows: [env] } = await client.query(
    `SELECT current_schema() AS schema, EXISTS (SELECT 1 FROM pg_language WHERE lanname = 'plv8') AS plv8,
            to_regprocedure(format('%I.fifo_apply_security()', current_schema())) IS NOT NULL AS security,
            to_regprocedure(format('%I.fifo_plv8_missing(text, text)', current_schema())) IS NOT NULL AS stand_ins`);
  const schema = String(env?.schema);
  const searchPath = `${quoteIdent(schema)}, pg_temp`;
  const { rows: standIns } = await client.query(
    `SELECT p.oid::regprocedure::text AS sig FROM pg_proc p
      WHERE p.pronamespace = current_schema()::regnamespace AND obj_description(p.oid, 'pg_proc') = $1`,
    [STAND_IN_COMMENT]);
  const standInSigs = standIns.map((r) => String(r.sig));
  // Normalised signatures of the new functions (NULL when a type does not exist).
  const { rows: wanted } = await client.query(
    `SELECT to_regprocedure(s)::text AS sig FROM unnest($1::text[]) WITH ORDINALITY AS u(s, i) ORDER BY i`,
    [procs.map((p) => signatureOf(p))],
  );
  const applySecurity = env?.security === true ? [`SELECT ${quoteIdent(schema)}.fifo_apply_security()`] : [];
  const run = async (statements: string[]) => {
    await client.query(`${[`SELECT pg_advisory_xact_lock(hashtext('fifo-ledger:install-plv8'))`, ...statements, ...applySecurity].join(';\n')};`);
  };

  if (!opts.assumePlv8 && env?.plv8 !== true) {
    const none = { plv8: false, bundleId, action: 'skipped' as const, created: [], dropped: [] };
    if (env?.stand_ins !== true) return { ...none, standIns: { created: [], dropped: [] }, securityApplied: false };
    const wantedSigs = new Set(wanted.map((w) => String(w.sig)));
    const stale = standInSigs.filter((sig) => !wantedSigs.has(sig));
    const missing = procs.filter((_, i) => wanted[i]?.sig === null);
    if (stale.length === 0 && missing.length === 0) return { ...none, standIns: { created: [], dropped: [] }, securityApplied: false };
    await run([...stale.map((sig) => `DROP FUNCTION ${sig}`), ...missing.map((p) => standInDdl(p, searchPath))]);
    return {
      ...none, standIns: { created: missing.map((p) => signatureOf(p)), dropped: stale }, securityApplied: applySecurity.length > 0,
    };
  }

  const { rows: installed } = await client.query(
    `SELECT p.oid::regprocedure::text AS sig, obj_description(p.oid, 'pg_proc') AS comment,
            pg_get_function_result(p.oid) AS result
       FROM pg_proc p
      WHERE p.pronamespace = current_schema()::regnamespace
        AND obj_description(p.oid, 'pg_proc') LIKE $1`,
    [`${COMMENT_PREFIX}%`],
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
  const upToDate = procs.length > 0 && standInSigs.length === 0 && wanted.every((w) => {
    const have = w.sig === null ? undefined : current.get(String(w.sig));
    return have !== undefined && have.comment === `${COMMENT_PREFIX}${bundleId}`;
  }) && installed.length === procs.length;
  const noStandIns = { created: [], dropped: [] };
  if (upToDate && !opts.force) {
    return { plv8: true, bundleId, action: 'current', created: [], dropped: [], standIns: noStandIns, securityApplied: false };
  }

  // Drop what the new bundle lacks, what cannot be replaced in place (changed result type),
  // and the stand-ins (CREATE OR REPLACE could change their language, not a result type).
  const keep = new Set<string>();
  for (const w of wanted) {
    if (w.sig === null) continue;
    const have = current.get(String(w.sig));
    if (have && w.result !== null && have.result === w.result) keep.add(String(w.sig));
  }
  const dropped = installed.map((r) => String(r.sig)).filter((s) => !keep.has(s));
  await run([
    ...[...dropped, ...standInSigs].map((s) => `DROP FUNCTION IF EXISTS ${s}`),
    ...procs.map((p) => functionDdl(p, { searchPath }).replace(/;$/, '')),
  ]);
  return {
    plv8: true, bundleId, action: 'installed', created: procs.map((p) => signatureOf(p)), dropped,
    standIns: { created: [], dropped: standInSigs }, securityApplied: applySecurity.length > 0,
  };
}
