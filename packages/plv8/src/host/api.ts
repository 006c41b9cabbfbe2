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
import type { PgErrorFields, Step, StepResult, WorkerRequest, WorkerResponse } from './protocol.ts';

/** PostgreSQL elevels, as PLV8 exposes them as globals. */
export const LEVELS = {
  DEBUG5: 10, DEBUG4: 11, DEBUG3: 12, DEBUG2: 13, DEBUG1: 14, LOG: 15, INFO: 17, NOTICE: 18, WARNING: 19, ERROR: 21,
} as const;

export const PLV8_VERSION = '3.2.2';

/** What the API needs from the host. Implemented in the Node realm. */
export interface Bridge {
  /** Sends a request to the worker and blocks for the reply (notices already forwarded). */
  exec(req: WorkerRequest): WorkerResponse;
  /** elog below ERROR. */
  log(level: number, message: string): void;
  /** Another procedure of the bundle as a plain function (plv8.find_function). */
  findFunction(name: string): ((...args: unknown[]) => unknown) | undefined;
  memoryUsage(): { total_heap_size: number; used_heap_size: number; external_memory: number };
}

export interface ExecError extends Error {
  sqlerrcode: string;
  code: number;
  detail?: string;
  hint?: string;
  context?: string;
  schema_name?: string;
  table_name?: string;
  column_name?: string;
  datatype_name?: string;
  constraint_name?: string;
  internalquery?: string;
}

export type Row = Record<string, unknown>;

export interface Cursor {
  fetch(n?: number): Row | Row[] | undefined;
  move(n: number): void;
  close(): void;
}

export interface PreparedPlan {
  execute(...args: unknown[]): Row[] | number;
  cursor(...args: unknown[]): Cursor;
  free(): void;
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

  function makeError(f: PgErrorFields): ExecError {
    const e = new Error(f.message) as ExecError;
    e.sqlerrcode = f.sqlstate;
    e.code = packSqlstate(f.sqlstate);
    const set = (k: keyof ExecError, v: string | undefined) => {
      if (v !== undefined) (e as unknown as Record<string, string>)[k] = v;
    };
    set('detail', f.detail);
    set('hint', f.hint);
    set('context', f.context);
    set('schema_name', f.schema);
    set('table_name', f.table);
    set('column_name', f.column);
    set('datatype_name', f.dataType);
    set('constraint_name', f.constraint);
    set('internalquery', f.internalQuery);
    return e;
  }

  /** Errors thrown by host code (another realm) are re-created here. */
  function toError(e: unknown): Error {
    if (e instanceof Error) return e;
    const x = (typeof e === 'object' && e !== null ? e : {}) as Record<string, unknown>;
    const err = new Error(typeof x.message === 'string' ? x.message : String(e)) as ExecError;
    for (const k of ['sqlerrcode', 'code', 'detail', 'hint', 'context', 'schema_name', 'table_name', 'column_name',
      'datatype_name', 'constraint_name', 'internalquery']) {
      const v = x[k];
      if (typeof v === 'string' || typeof v === 'number') (err as unknown as Record<string, unknown>)[k] = v;
    }
    return err;
  }

  function run(req: WorkerRequest): StepResult[] {
    let res: WorkerResponse;
    try {
      res = bridge.exec(req);
    } catch (e) {
      throw toError(e);
    }
    if (!res.ok) throw makeError(res.error);
    return res.results;
  }

  const exec1 = (step: Step): StepResult => {
    const r = run({ op: 'exec', steps: [step], savepoint: true })[0];
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
    const text = r.rows[0]?.[0];
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
    const oid = Number(r.rows[0]?.[0]);
    typeNameCache.set(name, oid);
    return oid;
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
      domainColumns = new Set(r.rows.map((x) => String(x[0])));
    }
    return domainColumns.has(`${table}:${column}`);
  }

  const TEXT_INFO = builtinType(25) as TypeInfo;

  function toJs(r: StepResult): Row[] | number {
    if (r.fields === null) return r.rowCount ?? 0;
    const fields = r.fields;
    const infos = fields.map((f) => (f.table && f.column && isDomainColumn(f.table, f.column) ? TEXT_INFO : lookup(f.oid)));
    const rows: Row[] = new Array(r.rows.length);
    for (let i = 0; i < r.rows.length; i++) {
      const raw = r.rows[i] as Array<string | null>;
      const row: Row = {};
      for (let j = 0; j < fields.length; j++) {
        row[(fields[j] as { name: string }).name] = decodeText(raw[j] ?? null, infos[j] as TypeInfo, lookup);
      }
      rows[i] = row;
    }
    return rows;
  }

  function paramList(rest: readonly unknown[]): readonly unknown[] {
    if (rest.length === 1 && Array.isArray(rest[0])) return rest[0] as unknown[];
    return rest;
  }

  function encodeParams(params: readonly unknown[], types: readonly number[]): Array<string | null> {
    if (types.length !== params.length) throw new Error(`parameter numbers mismatch: ${types.length} != ${params.length}`);
    return params.map((p, i) => encodeValue(p, lookup(types[i] as number), lookup));
  }

  function paramTypesOf(sql: string): number[] {
    let types = describeCache.get(sql);
    if (!types) {
      types = exec1({ sql, describeOnly: true }).paramTypes ?? [];
      describeCache.set(sql, types);
    }
    return types;
  }

  const execute = (sql: string, ...rest: unknown[]): Row[] | number => {
    const text = String(sql);
    const params = paramList(rest);
    if (params.length === 0) return toJs(exec1({ sql: text }));
    const types = paramTypesOf(text);
    return toJs(exec1({ sql: text, params: encodeParams(params, types), types }));
  };

  function makeCursor(name: string): Cursor {
    let open = true;
    const check = () => {
      if (!open) throw new Error('cursor is closed');
    };
    return {
      fetch(n?: number) {
        check();
        const count = n === undefined ? 1 : Math.trunc(Number(n));
        const dir = count < 0 ? `BACKWARD ${-count}` : `FORWARD ${count}`;
        const rows = toJs(exec1({ sql: `FETCH ${dir} FROM ${name}` })) as Row[];
        return n === undefined ? rows[0] : rows;
      },
      move(n: number) {
        check();
        const count = Math.trunc(Number(n));
        exec1({ sql: `MOVE ${count < 0 ? `BACKWARD ${-count}` : `FORWARD ${count}`} FROM ${name}` });
      },
      close() {
        if (!open) return;
        open = false;
        exec1({ sql: `CLOSE ${name}` });
      },
    };
  }

  const prepare = (sql: string, types: readonly string[] = []): PreparedPlan => {
    const text = String(sql);
    const oids = Array.from(types, (t) => typeOid(String(t)));
    const stmt = nextName('plan');
    const paramTypes = exec1({ sql: text, stmt, types: oids, describeOnly: true }).paramTypes ?? [];
    let freed = false;
    const check = () => {
      if (freed) throw new Error('plan has been freed');
    };
    return {
      execute(...rest: unknown[]) {
        check();
        const params = encodeParams(paramList(rest), paramTypes);
        return toJs(exec1({ sql: text, bindStmt: stmt, params }));
      },
      cursor(...rest: unknown[]) {
        check();
        const params = encodeParams(paramList(rest), paramTypes);
        const name = nextName('cursor');
        exec1({ sql: `DECLARE ${name} CURSOR FOR ${text}`, params, types: paramTypes });
        return makeCursor(name);
      },
      free() {
        if (freed) return;
        freed = true;
        exec1({ sql: `DEALLOCATE ${stmt}` });
      },
    };
  };

  const subtransaction = <T>(fn: () => T): T => {
    const sp = nextName('subxact');
    run({ op: 'simple', sql: `SAVEPOINT ${sp}`, savepoint: false });
    let result: T;
    try {
      result = fn();
    } catch (e) {
      run({ op: 'simple', sql: `ROLLBACK TO SAVEPOINT ${sp}; RELEASE SAVEPOINT ${sp}`, savepoint: false });
      throw e;
    }
    run({ op: 'simple', sql: `RELEASE SAVEPOINT ${sp}`, savepoint: false });
    return result;
  };

  const elog = (level: number, ...msgs: unknown[]): void => {
    if (!LEVEL_VALUES.has(level)) throw new Error('invalid error level');
    const message = msgs.map((m) => String(m)).join(' ');
    if (level >= LEVELS.ERROR) {
      throw makeError({ message, sqlstate: 'XX000' });
    }
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
      const fn = bridge.findFunction(bare);
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
    decode: (text, oid) => decodeText(text, lookup(oid), lookup),
    encode: (value, oid) => encodeValue(value, lookup(oid), lookup),
    roundTrip(texts, oids) {
      if (texts.length === 0) return [];
      const sql = `SELECT ${oids.map((_, i) => `$${i + 1}`).join(', ')}`;
      const r = exec1({ sql, params: texts, types: oids });
      return Array.from(r.rows[0] ?? []);
    },
    clearCaches() {
      describeCache.clear();
      domainColumns = null;
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
