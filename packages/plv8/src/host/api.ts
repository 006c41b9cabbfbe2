/**
 * The PLV8 API (`plv8.execute`, `prepare`, `subtransaction`, `elog`, ...) over a synchronous
 * bridge to the database worker.
 *
 * Realm-agnostic like convert.ts: the host bundles this module into the vm context (so every
 * object and error user code sees belongs to that realm, and no Node object is reachable from
 * it) and also imports it directly for its own main-realm use (`host.execute`).
 */
import {
  builtinType, decodeText, encodeValue, packSqlstate, quoteIdent, quoteLiteral, quoteNullable,
  type TypeInfo,
} from './convert.ts';
import { createCursors } from './cursor.ts';
import type { ParamValue, PgErrorFields, Step, StepResult, WorkerRequest, WorkerResponse } from './protocol.ts';
import { BINARY_ARRAY_TYPES, encodeArray } from './binary-arrays.ts';

/** PostgreSQL elevels, as PLV8 exposes them as globals. */
export const LEVELS = {
  DEBUG5: 10, DEBUG4: 11, DEBUG3: 12, DEBUG2: 13, DEBUG1: 14, LOG: 15, INFO: 17, NOTICE: 18, WARNING: 19, ERROR: 21,
} as const;

/** The PLV8 release the host imitates (what Supabase and Aurora PG 14–17 run). */
export const PLV8_VERSION = '3.1.10';

/**
 * The message PLV8 gives the new Error it throws for a JS exception it caught (subtransaction):
 * V8's ToString of the thrown value, with a leading "Error: " cut once when the exception is
 * recorded and once more when the Error is made (plv8.cc js_error::init / error_object).
 * A value whose ToString throws (a Symbol, say) gives "unknown exception", the text PLV8 uses
 * when it has no message.
 */
export function plv8ExceptionMessage(e: unknown): string {
  let msg: string;
  try {
    msg = `${e as string}`; // ToString, like V8's Utf8Value: throws for a Symbol, where String(e) would not
  } catch {
    return 'unknown exception';
  }
  for (let i = 0; i < 2 && msg.startsWith('Error: '); i++) msg = msg.slice(7);
  return msg;
}

/** What the API needs from the host. Implemented in the Node realm. */
export interface Bridge {
  /** Sends a request to the worker and blocks for the reply (notices already forwarded). */
  exec(req: WorkerRequest): WorkerResponse;
  /** elog below ERROR. */
  log(level: number, message: string): void;
  /** Another procedure of the bundle as a plain function (plv8.find_function). */
  findFunction(name: string): ((...args: unknown[]) => unknown) | undefined;
  memoryUsage(): { total_heap_size: number; used_heap_size: number; external_memory: number };
  /** From how many rows a cursor's fetch(n) has the next n read ahead (0: never; cursor.ts). */
  prefetchRows(): number;
  /** Whether array parameters of binary-arrays.ts's types go in the binary format. */
  binaryArrays(): boolean;
  /** Changes when a transaction begins or ends (what a cursor reads ahead lives in one). */
  transaction(): number;
  /** Subtransactions of the session, for both realms: one begun (its id), one ended. */
  subtransactionBegun(): number;
  subtransactionEnded(id: number, rolledBack: boolean): void;
  /** The ids of those open now, innermost last. */
  subtransactions(): number[];
  /** Whether one of these was rolled back in this transaction. */
  rolledBack(ids: readonly number[]): boolean;
}

/** A SQL error out of `execute`: PLV8 sets all eleven fields, null when PostgreSQL gave none. */
export interface ExecError extends Error {
  sqlerrcode: string;
  schema_name: string | null;
  table_name: string | null;
  column_name: string | null;
  datatype_name: string | null;
  constraint_name: string | null;
  detail: string | null;
  hint: string | null;
  context: string | null;
  internalquery: string | null;
  /** The packed SQLSTATE (MAKE_SQLSTATE), so rethrowing keeps the SQLSTATE. */
  code: number;
}

/** The eleven fields, in the order plv8_FunctionInvoker sets them. */
export const EXEC_ERROR_FIELDS = [
  'sqlerrcode', 'schema_name', 'table_name', 'column_name', 'datatype_name', 'constraint_name', 'detail', 'hint', 'context',
  'internalquery', 'code',
] as const;

export type Row = Record<string, unknown>;

export interface Cursor {
  /** One row, or n rows; undefined when nothing is left (in both forms, as in PLV8). */
  fetch(n?: number): Row | Row[] | undefined;
  move(n?: number): void;
  close(): number;
}

export interface PreparedPlan {
  execute(...args: unknown[]): Row[] | number;
  cursor(...args: unknown[]): Cursor;
  free(): number;
}

export interface Plv8Api {
  execute(sql: string, ...args: unknown[]): Row[] | number;
  prepare(sql: string, types?: readonly string[]): PreparedPlan;
  subtransaction<T>(fn: () => T): T;
  elog(level: number, ...msgs: unknown[]): void;
  return_next(row: unknown): void;
  find_function(name: string): (...args: unknown[]) => unknown;
  quote_literal(s: unknown): string;
  quote_nullable(s: unknown): string;
  quote_ident(s: unknown): string;
  memory_usage(): { total_heap_size: number; used_heap_size: number; external_memory: number };
  commit(): void;
  rollback(): void;
  version: string;
  v8_version: string;
}

/** Host-only controls over one API instance. */
export interface Plv8Internal {
  lookup(oid: number): TypeInfo;
  typeOid(name: string): number;
  /**
   * The OIDs of several type names in one round trip, cached as typeOid caches them; false
   * (nothing cached) when one of them does not resolve, so each then fails on its own.
   */
  typeOids(names: readonly string[]): number[] | false;
  /** Caches name → OID pairs resolved by another realm of the same session. */
  knowTypeOids(names: readonly string[], oids: readonly number[]): void;
  decode(text: string | null, oid: number): unknown;
  encode(value: unknown, oid: number): string | null;
  /** Normalises texts through the server's input/output functions of their types. */
  roundTrip(texts: ReadonlyArray<string | null>, oids: readonly number[]): Array<string | null>;
  clearCaches(): void;
  beginSet(sink: (row: unknown) => void): void;
  endSet(): void;
  newObject(): object;
  /** Converts anything thrown into an Error of this realm (keeps PLV8 fields). */
  toError(e: unknown): Error;
}

const LEVEL_VALUES = new Set<number>(Object.values(LEVELS));

export function createPlv8(bridge: Bridge, opts: { prefix: string; v8Version: string }): { plv8: Plv8Api; internal: Plv8Internal } {
  const typeCache = new Map<number, TypeInfo>();
  const typeNameCache = new Map<string, number>();
  const describeCache = new Map<string, number[]>();
  let setSink: ((row: unknown) => void) | null = null;
  let counter = 0;
  const nextName = (kind: string) => `plv8_${opts.prefix}_${kind}_${++counter}`;

  /**
   * PLV8's Error for a PostgreSQL error, `sql` being the statement SPI ran. SPI's error
   * callback adds `SQL statement "…"` to the context, or, for an error with a cursor position
   * (a syntax error), makes the statement the internal query instead.
   */
  function makeError(f: PgErrorFields, sql?: string): ExecError {
    const e = new Error(f.message) as ExecError;
    let context = f.context ?? null;
    let internalquery = f.internalQuery ?? null;
    if (sql !== undefined) {
      if (f.position !== undefined && internalquery === null) internalquery = sql;
      else context = context === null ? `SQL statement "${sql}"` : `${context}\nSQL statement "${sql}"`;
    }
    const values: Record<(typeof EXEC_ERROR_FIELDS)[number], string | number | null> = {
      sqlerrcode: f.sqlstate,
      schema_name: f.schema ?? null,
      table_name: f.table ?? null,
      column_name: f.column ?? null,
      datatype_name: f.dataType ?? null,
      constraint_name: f.constraint ?? null,
      detail: f.detail ?? null,
      hint: f.hint ?? null,
      context,
      internalquery,
      code: packSqlstate(f.sqlstate),
    };
    for (const k of EXEC_ERROR_FIELDS) (e as unknown as Record<string, unknown>)[k] = values[k];
    return e;
  }

  /** Errors thrown by host code (another realm) are re-created here. */
  function toError(e: unknown): Error {
    if (e instanceof Error) return e;
    const x = (typeof e === 'object' && e !== null ? e : {}) as Record<string, unknown>;
    const err = new Error(typeof x.message === 'string' ? x.message : String(e)) as ExecError;
    for (const k of EXEC_ERROR_FIELDS) {
      const v = x[k];
      if (typeof v === 'string' || typeof v === 'number' || (v === null && k in x)) (err as unknown as Record<string, unknown>)[k] = v;
    }
    return err;
  }

  function request(req: WorkerRequest): WorkerResponse {
    try {
      return bridge.exec(req);
    } catch (e) {
      throw toError(e);
    }
  }

  function run(req: WorkerRequest, sql?: string): StepResult[] {
    const res = request(req);
    if (!res.ok) throw makeError(res.error, sql);
    return res.results;
  }

  /** One step in its own savepoint; `spi` names the statement as SPI would in an error. */
  const exec1 = (step: Step, spi?: string): StepResult => {
    const r = run({ op: 'exec', steps: [step], savepoint: true }, spi)[0];
    if (!r) throw new Error('no result from the database worker');
    return r;
  };

  function lookup(oid: number): TypeInfo {
    const b = builtinType(oid) ?? typeCache.get(oid);
    if (b) return b;
    const r = exec1({
      sql: `SELECT json_build_object('oid', t.oid::int8, 'name', t.typname, 'typtype', t.typtype, 'category', t.typcategory,
              'elem', t.typelem::int8, 'delim', t.typdelim,
              'attrs', (SELECT json_agg(json_build_array(a.attname, a.atttypid::int8) ORDER BY a.attnum)
                          FROM pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped))::text
              FROM pg_type t WHERE t.oid = $1::oid`,
      params: [String(oid)],
    });
    const text = rawRows(r)[0]?.[0];
    if (!text) throw new Error(`cache lookup failed for type ${oid}`);
    const info = JSON.parse(text) as TypeInfo;
    if (info.typtype !== 'c') info.attrs = null;
    typeCache.set(oid, info);
    return info;
  }

  function typeOid(name: string): number {
    const hit = typeNameCache.get(name);
    if (hit !== undefined) return hit;
    const r = exec1({ sql: 'SELECT $1::regtype::oid::text', params: [name] });
    const oid = Number(rawRows(r)[0]?.[0]);
    typeNameCache.set(name, oid);
    return oid;
  }

  function typeOids(names: readonly string[]): number[] | false {
    const missing = [...new Set(names)].filter((n) => !typeNameCache.has(n));
    if (missing.length > 0) {
      let r: StepResult;
      try {
        r = exec1({ sql: `SELECT ${missing.map((_, i) => `$${i + 1}::regtype::oid::text`).join(', ')}`, params: missing });
      } catch {
        return false;
      }
      missing.forEach((n, i) => typeNameCache.set(n, Number(rawRows(r)[0]?.[i])));
    }
    return names.map((n) => typeNameCache.get(n) as number);
  }

  /**
   * Table columns (relid:attnum) whose type is a domain. PLV8 does not resolve domains and
   * delivers their values as strings, but the protocol's row description reports the base
   * type; for columns read straight from a table it also names the column, so look those up.
   */
  let domainColumns: Set<string> | null = null;
  function isDomainColumn(table: number, column: number): boolean {
    if (domainColumns === null) {
      const r = exec1({
        sql: `SELECT a.attrelid::int8::text || ':' || a.attnum FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
               WHERE t.typtype = 'd' AND a.attnum > 0 AND NOT a.attisdropped
                 AND a.attrelid IN (SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                                     WHERE n.nspname NOT IN ('pg_catalog', 'information_schema'))`,
      });
      domainColumns = new Set(rawRows(r).map((x) => String(x[0])));
    }
    return domainColumns.has(`${table}:${column}`);
  }

  const TEXT_INFO = builtinType(25) as TypeInfo;

  /** A packed result's rows as field arrays (protocol.ts). */
  function unpack(p: NonNullable<StepResult['packed']>, width: number): Array<Array<string | null>> {
    const rows: Array<Array<string | null>> = new Array(p.lines.length);
    for (let i = 0; i < rows.length; i++) rows[i] = width === 0 ? [] : (p.lines[i] as string).split('\0');
    for (const k of p.nulls) (rows[Math.floor(k / width)] as Array<string | null>)[k % width] = null;
    return rows;
  }

  /** A result's rows as field arrays, whether or not they crossed packed. */
  function rawRows(r: StepResult): Array<Array<string | null>> {
    return r.packed === undefined ? r.rows : unpack(r.packed, r.fields?.length ?? 0);
  }

  function toJs(r: StepResult): Row[] | number {
    if (r.fields === null) return r.rowCount ?? 0;
    const fields = r.fields;
    const width = fields.length;
    const names = fields.map((f) => f.name);
    const infos = fields.map((f) => (f.table && f.column && isDomainColumn(f.table, f.column) ? TEXT_INFO : lookup(f.oid)));
    const raw = rawRows(r);
    const rows: Row[] = new Array(raw.length);
    for (let i = 0; i < raw.length; i++) {
      const fieldsOf = raw[i] as Array<string | null>;
      const row: Row = {};
      for (let j = 0; j < width; j++) row[names[j] as string] = decodeText(fieldsOf[j] ?? null, infos[j] as TypeInfo, lookup);
      rows[i] = row;
    }
    return rows;
  }

  function paramList(rest: readonly unknown[]): readonly unknown[] {
    if (rest.length === 1 && Array.isArray(rest[0])) return rest[0] as unknown[];
    return rest;
  }

  function encodeParams(params: readonly unknown[], types: readonly number[], plan = false): Array<ParamValue> {
    if (types.length !== params.length) {
      throw new Error(plan ? `plan expected ${types.length} argument(s), given is ${params.length}`
        : `parameter numbers mismatch: ${types.length} != ${params.length}`);
    }
    const binary = bridge.binaryArrays();
    return params.map((p, i) => {
      const oid = types[i] as number;
      const elem = binary ? BINARY_ARRAY_TYPES.get(oid) : undefined;
      if (elem !== undefined && Array.isArray(p)) {
        const binary = encodeArray(elem, p);
        if (binary !== null) return binary;
      }
      return encodeValue(p, lookup(oid), lookup);
    });
  }

  function paramTypesOf(sql: string): number[] {
    let types = describeCache.get(sql);
    if (!types) {
      types = exec1({ sql, describeOnly: true }, sql).paramTypes ?? [];
      describeCache.set(sql, types);
    }
    return types;
  }

  const execute = (sql: string, ...rest: unknown[]): Row[] | number => {
    const text = String(sql);
    const params = paramList(rest);
    if (params.length === 0) return toJs(exec1({ sql: text }, text));
    const types = paramTypesOf(text);
    return toJs(exec1({ sql: text, params: encodeParams(params, types), types }, text));
  };

  /** Int32Value, as PLV8 reads counts. */
  const int32 = (v: unknown): number => Number(v) | 0;

  const cursors = createCursors({ bridge, request, makeError: (f) => makeError(f), toJs, rawRows });

  const prepare = (sql: string, types: readonly string[] = []): PreparedPlan => {
    const text = String(sql);
    const oids = Array.from(types, (t) => typeOid(String(t)));
    const stmt = nextName('plan');
    const paramTypes = exec1({ sql: text, stmt, types: oids, describeOnly: true }, text).paramTypes ?? [];
    let freed = false;
    const check = () => {
      if (freed) throw new Error('plan has been freed');
    };
    return {
      execute(...rest: unknown[]) {
        check();
        const params = encodeParams(paramList(rest), paramTypes, true);
        return toJs(exec1({ sql: text, bindStmt: stmt, params }, text));
      },
      cursor(...rest: unknown[]) {
        check();
        const params = encodeParams(paramList(rest), paramTypes, true);
        const name = nextName('cursor');
        exec1({ sql: `DECLARE ${name} CURSOR FOR ${text}`, params, types: paramTypes }, text);
        return cursors.open(name, text);
      },
      free() {
        if (freed) return 0;
        freed = true;
        exec1({ sql: `DEALLOCATE ${stmt}` });
        return 0;
      },
    };
  };

  /**
   * As plv8_Subtransaction: no function, no subtransaction (undefined); `fn` is called with
   * itself as `this`; whatever it throws comes back as a NEW plain Error carrying only
   * plv8ExceptionMessage(e): no sqlerrcode/code/detail, no custom properties, no subclass.
   */
  const subtransaction = <T>(fn: () => T): T => {
    if (typeof fn !== 'function') return undefined as T;
    const sp = nextName('subxact');
    run({ op: 'simple', sql: `SAVEPOINT ${sp}`, savepoint: false });
    const id = bridge.subtransactionBegun();
    let result: T;
    try {
      result = fn.call(fn);
    } catch (e) {
      bridge.subtransactionEnded(id, true);
      const drop = cursors.rolledBack(id);
      run({ op: 'simple', sql: `ROLLBACK TO SAVEPOINT ${sp}; RELEASE SAVEPOINT ${sp}`, savepoint: false, ...(drop.length > 0 ? { drop } : {}) });
      throw new Error(plv8ExceptionMessage(e));
    }
    bridge.subtransactionEnded(id, false);
    run({ op: 'simple', sql: `RELEASE SAVEPOINT ${sp}`, savepoint: false });
    return result;
  };

  /** As plv8_Elog: usage errors are thrown as strings; ERROR throws a plain Error (no sqlerrcode). */
  const elog = (...args: unknown[]): void => {
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- PLV8 throws these as strings
    if (args.length < 2) throw 'usage: plv8.elog(elevel, ...)';
    const level = int32(args[0]);
    // eslint-disable-next-line @typescript-eslint/only-throw-error
    if (!LEVEL_VALUES.has(level)) throw 'invalid error level';
    const message = args.slice(1).map((m) => String(m)).join(' ');
    if (level >= LEVELS.ERROR) throw new Error(message);
    try {
      bridge.log(level, message);
    } catch (e) {
      throw toError(e);
    }
  };

  const plv8: Plv8Api = {
    execute,
    prepare,
    subtransaction,
    elog,
    return_next(row: unknown) {
      if (!setSink) throw new Error('return_next called in context that cannot accept a set');
      try {
        setSink(row);
      } catch (e) {
        throw toError(e);
      }
    },
    find_function(name: string) {
      const bare = String(name).replace(/\(.*$/, '').trim();
      let fn: ((...args: unknown[]) => unknown) | undefined;
      try {
        fn = bridge.findFunction(bare);
      } catch (e) {
        throw toError(e);
      }
      if (!fn) throw new Error(`javascript function is not found for "${name}"`);
      return fn;
    },
    quote_literal: quoteLiteral,
    quote_nullable: quoteNullable,
    quote_ident: quoteIdent,
    memory_usage() {
      const m = bridge.memoryUsage();
      return { total_heap_size: m.total_heap_size, used_heap_size: m.used_heap_size, external_memory: m.external_memory };
    },
    commit() {
      throw makeError({ message: 'invalid transaction termination', sqlstate: '2D000' });
    },
    rollback() {
      throw makeError({ message: 'invalid transaction termination', sqlstate: '2D000' });
    },
    version: PLV8_VERSION,
    v8_version: opts.v8Version,
  };

  const internal: Plv8Internal = {
    lookup,
    typeOid,
    typeOids,
    knowTypeOids(names, oids) {
      names.forEach((n, i) => {
        const oid = oids[i];
        if (oid !== undefined && !typeNameCache.has(n)) typeNameCache.set(n, oid);
      });
    },
    decode: (text, oid) => decodeText(text, lookup(oid), lookup),
    encode: (value, oid) => encodeValue(value, lookup(oid), lookup),
    roundTrip(texts, oids) {
      if (texts.length === 0) return [];
      const sql = `SELECT ${oids.map((_, i) => `$${i + 1}`).join(', ')}`;
      const r = exec1({ sql, params: texts, types: oids });
      return Array.from(rawRows(r)[0] ?? []);
    },
    clearCaches() {
      describeCache.clear();
      domainColumns = null;
      cursors.clearCaches();
    },
    beginSet(sink) {
      setSink = sink;
    },
    endSet() {
      setSink = null;
    },
    newObject: () => ({}),
    toError,
  };

  return { plv8, internal };
}
