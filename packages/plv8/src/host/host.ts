/**
 * The Node PLV8 host: runs the generated procedure bodies in an isolated vm context that
 * provides the PLV8 API over a real PostgreSQL connection, inside one transaction, with
 * PLV8 3.x type conversions. See packages/plv8/README.md.
 */
import { getHeapStatistics } from 'node:v8';
import vm from 'node:vm';
import { createPlv8, LEVELS, type Bridge, type Plv8Api, type Plv8Internal, type Row } from './api.ts';
import { ChannelError, SyncChannel } from './channel.ts';
import { OID, unpackSqlstate } from './convert.ts';
import { runtimeCode } from './sources.ts';
import { boundGlobals, functionSource } from './global-bindings.ts';
import { restrictToV8Baseline, scanForMissingBuiltins } from '../v8-baseline.ts';
import type { Notice, WorkerRequest, WorkerResponse } from './protocol.ts';
import {
  isSetReturning, loadGeneratedProcedures, returnShape, type GeneratedProcedure,
} from '../procedures.ts';

export type LevelName = keyof typeof LEVELS;

export interface HostMessage {
  level: LevelName;
  message: string;
  /** `elog` from JS, or a notice the server sent while running SQL. */
  source: 'elog' | 'sql';
  detail?: string;
  hint?: string;
}

export interface Plv8HostOptions {
  connectionString: string;
  /** Procedures to serve (default: packages/plv8/generated/procedures.json). */
  procedures?: readonly GeneratedProcedure[];
  /** elog and server notices. Default: WARNING to stderr, everything else dropped. */
  onMessage?: (m: HostMessage) => void;
  /** SQL run once after connecting, e.g. `SET search_path TO myschema`. */
  sessionSql?: readonly string[];
  applicationName?: string;
  /** BEGIN right away (default true). */
  begin?: boolean;
  /** Longest wait for one database round trip before the host gives up (default: none). */
  requestTimeoutMs?: number;
  /**
   * From how many rows a cursor's fetch(n) has the next n read ahead while the procedure works
   * (src/host/cursor.ts); 0 turns reading ahead off. Default: FIFO_HOST_PREFETCH (a number,
   * or `off`), else 256.
   */
  prefetchRows?: number;
  /**
   * Array parameters of text, int4, numeric and timestamptz in the binary format
   * (src/host/binary-arrays.ts); false sends every parameter as text. Default: FIFO_HOST_BINARY
   * (`off` turns it off), else on.
   */
  binaryArrays?: boolean;
}

function binaryArraysOf(opts: Plv8HostOptions): boolean {
  if (opts.binaryArrays !== undefined) return opts.binaryArrays;
  const env = envSetting('FIFO_HOST_BINARY');
  if (env === '' || env === 'on') return true;
  if (env === 'off') return false;
  throw new Error(`FIFO_HOST_BINARY must be on or off, got ${JSON.stringify(env)}`);
}
/** Reading ahead from fetch(256) on: below that a round trip saved is worth little. */
const PREFETCH_ROWS = 256;

/** An environment setting of the host, trimmed and lower-cased ('' when unset); true/yes read as on, false/no as off. */
function envSetting(name: string): string {
  const v = process.env[name]?.trim().toLowerCase() ?? '';
  if (v === 'true' || v === 'yes') return 'on';
  if (v === 'false' || v === 'no') return 'off';
  return v;
}

function prefetchRowsOf(opts: Plv8HostOptions): number {
  if (opts.prefetchRows !== undefined) return Math.max(0, Math.floor(opts.prefetchRows));
  const env = envSetting('FIFO_HOST_PREFETCH');
  if (env === '' || env === 'on') return PREFETCH_ROWS;
  if (env === 'off') return 0;
  const n = Number(env);
  if (!Number.isInteger(n) || n < 0) throw new Error(`FIFO_HOST_PREFETCH must be off, on or a row count, got ${JSON.stringify(env)}`);
  return n;
}

/** An error out of `call`/`run`/`commit`, shaped like the PostgreSQL error PLV8 would raise. */
export class Plv8Error extends Error {
  readonly sqlerrcode: string;
  detail?: string;
  hint?: string;
  /** JS stack of the exception inside the procedure, when there is one. */
  jsStack?: string;
  procedure?: string;
  constructor(message: string, sqlerrcode: string, extra: { detail?: string; hint?: string; procedure?: string; cause?: unknown; jsStack?: string } = {}) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = 'Plv8Error';
    this.sqlerrcode = sqlerrcode;
    if (extra.detail !== undefined) this.detail = extra.detail;
    if (extra.hint !== undefined) this.hint = extra.hint;
    if (extra.procedure !== undefined) this.procedure = extra.procedure;
    if (extra.jsStack !== undefined) this.jsStack = extra.jsStack;
  }
}

const LEVEL_BY_VALUE = new Map<number, LevelName>(Object.entries(LEVELS).map(([k, v]) => [v, k as LevelName]));

function levelOfSeverity(sev: string): LevelName {
  const s = sev.toUpperCase();
  if (s in LEVELS) return s as LevelName;
  if (s.startsWith('DEBUG')) return 'DEBUG1';
  return 'NOTICE';
}

function defaultOnMessage(m: HostMessage): void {
  if (m.level === 'WARNING') process.stderr.write(`WARNING:  ${m.message}\n`);
}

interface Signature {
  argOids: number[];
  setof: boolean;
  ret: { kind: 'void' } | { kind: 'scalar'; oid: number } | { kind: 'table'; columns: Array<[string, number]> };
}

const PSEUDO = new Set<number>([OID.record, OID.unknown, OID.void]);

type State = 'idle' | 'transaction' | 'closed';

export class Plv8Host {
  private readonly context: vm.Context;
  private boundNames: string | undefined;
  private readonly ctx: Plv8Internal;
  private readonly main: Plv8Internal;
  private readonly mainApi: Plv8Api;
  private readonly procs = new Map<string, GeneratedProcedure>();
  private readonly compiled = new Map<string, (...args: unknown[]) => unknown>();
  private readonly signatures = new Map<string, Signature>();
  private readonly onMessage: (m: HostMessage) => void;
  private state: State = 'idle';
  private readonly contextSyntaxError: SyntaxErrorConstructor;
  /** Round trips to the database since open (for measurements). */
  requests = 0;
  /** Cursor chunks read ahead since open (src/host/cursor.ts; for tests and measurements). */
  readAheads = 0;
  private readonly prefetchRows: number;
  /** Bumped at every BEGIN, COMMIT and ROLLBACK (Bridge.transaction). */
  private txEpoch = 0;
  /** plv8.subtransaction in either realm: the open ones, and those rolled back in this transaction. */
  private subxactSeq = 0;
  private readonly subxacts: number[] = [];
  private readonly subxactsRolledBack = new Set<number>();

  /** Set by open() once the database worker is ready (the context is built while it starts). */
  private channel!: SyncChannel;

  private constructor(opts: Plv8HostOptions) {
    for (const p of opts.procedures ?? loadGeneratedProcedures()) this.procs.set(p.name, p);
    this.onMessage = opts.onMessage ?? defaultOnMessage;
    this.prefetchRows = prefetchRowsOf(opts);
    const binaryArrays = binaryArraysOf(opts);
    const memoryUsage = () => {
      const h = getHeapStatistics();
      return { total_heap_size: h.total_heap_size, used_heap_size: h.used_heap_size, external_memory: h.external_memory };
    };
    const bridge: Bridge = {
      exec: (req) => this.request(req),
      log: (level, message) => this.emit({ level: LEVEL_BY_VALUE.get(level) ?? 'NOTICE', message, source: 'elog' }),
      findFunction: (name) => (this.procs.has(name) ? this.compile(name) : undefined),
      memoryUsage,
      prefetchRows: () => this.prefetchRows,
      binaryArrays: () => binaryArrays,
      transaction: () => this.txEpoch,
      subtransactionBegun: () => {
        this.subxacts.push(++this.subxactSeq);
        return this.subxactSeq;
      },
      subtransactionEnded: (id, rolledBack) => {
        const at = this.subxacts.lastIndexOf(id);
        if (at >= 0) this.subxacts.length = at;
        if (rolledBack) this.subxactsRolledBack.add(id);
      },
      subtransactions: () => this.subxacts.slice(),
      rolledBack: (ids) => ids.some((id) => this.subxactsRolledBack.has(id)),
    };
    this.context = vm.createContext({}, { name: 'plv8' });
    restrictToV8Baseline(this.context);
    this.contextSyntaxError = vm.runInContext('SyntaxError', this.context) as SyntaxErrorConstructor;
    const install = vm.runInContext(`${functionSource(boundGlobals(this.context), '', `${runtimeCode()}\nreturn __plv8_runtime.install;`)}()`, this.context, {
      filename: 'plv8-host-runtime.js',
    }) as (b: Bridge, v8Version: string) => Plv8Internal;
    this.ctx = install(bridge, process.versions.v8);
    const mainSide = createPlv8({ ...bridge, findFunction: () => undefined }, { prefix: 'host', v8Version: process.versions.v8 });
    this.main = mainSide.internal;
    this.mainApi = mainSide.plv8;
  }

  /**
   * Connects (a worker thread with its own connection) and, by default, BEGINs. The vm context,
   * its runtime and the procedures' functions are made while the worker starts (that start, a
   * thread, `pg` and a connection, is what a one-shot run waits for), at the caller's next wait
   * for I/O rather than at once: the caller (a runner starting its own connection and queries)
   * keeps the thread until then.
   */
  static async open(opts: Plv8HostOptions): Promise<Plv8Host> {
    const starting = SyncChannel.start({
      connectionString: opts.connectionString,
      applicationName: opts.applicationName ?? 'fifo-ledger-plv8-host',
      sessionSql: ['SET DateStyle TO ISO', ...(opts.sessionSql ?? [])],
      ...(opts.requestTimeoutMs !== undefined ? { requestTimeoutMs: opts.requestTimeoutMs } : {}),
    });
    starting.catch(() => {}); // awaited below; a failed start must not count as unhandled meanwhile
    await new Promise<void>((resolve) => setImmediate(resolve));
    let host: Plv8Host;
    try {
      host = new Plv8Host(opts);
      host.precompile();
    } catch (e) {
      await starting.then((c) => c.close(), () => {});
      throw e;
    }
    host.channel = await starting;
    if (opts.begin ?? true) host.begin();
    return host;
  }

  /**
   * Starts the database thread of the next host to open now, before its connection is known:
   * a caller that will open a host soon (a one-shot run) lets that start overlap its own.
   */
  static startEarly(): void {
    SyncChannel.startEarly();
  }

  /** Ends the thread of startEarly when no host took it. */
  static discardEarly(): Promise<void> {
    return SyncChannel.discardEarly();
  }

  /** PID of the server backend serving this host. */
  get backendPid(): number {
    return this.channel.backendPid;
  }

  get inTransaction(): boolean {
    return this.state === 'transaction';
  }

  /** Names of the procedures this host serves. */
  get procedureNames(): string[] {
    return [...this.procs.keys()];
  }

  /** The bundle id of the served procedures (null when there are none). */
  get bundleId(): string | null {
    const first = this.procs.values().next();
    return first.done ? null : first.value.bundleId;
  }

  // ------------------------------------------------------------------------------------------
  // Transactions

  /**
   * BEGIN [mode], e.g. `begin('ISOLATION LEVEL REPEATABLE READ')`. Like PostgreSQL (which only
   * warns), BEGIN inside an open transaction is a no-op.
   */
  begin(mode = ''): void {
    this.ensureOpen();
    if (this.state === 'transaction') return;
    this.simple(`BEGIN ${mode}`.trim());
    this.state = 'transaction';
  }

  /**
   * COMMIT. Outside a transaction (e.g. after a failed call already rolled back) a no-op, as in
   * PostgreSQL. Throws (SQLSTATE 25P02) if the server rolled back instead.
   */
  commit(): void {
    this.ensureOpen();
    if (this.state !== 'transaction') return;
    this.state = 'idle';
    const r = this.simple('COMMIT');
    if (r.command === 'ROLLBACK') throw new Plv8Error('the transaction was aborted and has been rolled back', '25P02');
  }

  /** ROLLBACK; a no-op outside a transaction (e.g. after a failed call, which already rolled back). */
  rollback(): void {
    if (this.state !== 'transaction') return;
    this.state = 'idle';
    this.simple('ROLLBACK');
  }

  /** Ends the connection (an open transaction is rolled back) and terminates the worker. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    await this.channel.close();
  }

  // ------------------------------------------------------------------------------------------
  // Procedures

  /**
   * Calls procedure `name` the way `SELECT name(args...)` would run it in PLV8. `args` are the
   * JS values PLV8 would deliver for the declared SQL types (int8 → BigInt, numeric → Number,
   * jsonb → object, text[] → array, ...; a string is accepted for any type and parsed by the
   * server, e.g. an exact numeric). Returns the result as PLV8 would read it back: a value, or
   * an array of rows/values for set-returning procedures, undefined for void.
   *
   * Any exception escaping the procedure rolls the transaction back (like an ERROR in SQL) and
   * is rethrown as a Plv8Error carrying the SQLSTATE PLV8 would report.
   */
  call<T = unknown>(name: string, args: readonly unknown[] = []): T {
    this.ensureTransaction();
    try {
      const p = this.procs.get(name);
      if (!p) throw new Plv8Error(`function ${name} is not in the PLV8 bundle`, '42883');
      if (args.length !== p.args.length) {
        throw new Plv8Error(`function ${name} takes ${p.args.length} argument(s), ${args.length} given`, '42883');
      }
      this.ctx.clearCaches();
      this.main.clearCaches();
      const sig = this.signature(p);
      let texts = args.map((a, i) => this.main.encode(a, sig.argOids[i] as number));
      if (p.strict && texts.some((t) => t === null)) return (sig.setof ? [] : null) as T;
      texts = this.normalize(texts, sig.argOids);
      const jsArgs = texts.map((t, i) => this.ctx.decode(t, sig.argOids[i] as number));
      const fn = this.compile(name);
      if (!sig.setof) {
        const ret = fn.apply(this.ctx.newObject(), jsArgs);
        return this.convertReturn(ret, sig) as T;
      }
      const rows: Array<Array<string | null>> = [];
      this.ctx.beginSet((row) => rows.push(this.encodeRow(row, sig)));
      let ret: unknown;
      try {
        ret = fn.apply(this.ctx.newObject(), jsArgs);
      } finally {
        this.ctx.endSet();
      }
      if (isThenable(ret)) throw new Plv8Error(`${name} returned a Promise: PLV8 has no event loop, procedures must be synchronous`, 'XX000');
      if (Array.isArray(ret)) for (const r of ret) rows.push(this.encodeRow(r, sig));
      return rows.map((r) => this.decodeRow(r, sig)) as T;
    } catch (e) {
      throw this.fail(e, name);
    }
  }

  /**
   * Runs an anonymous function body in the PLV8 context (like `DO $$ … $$ LANGUAGE plv8`,
   * but the body's return value is handed back unconverted, as a value of the vm realm).
   * Errors roll the transaction back, like `call`.
   */
  run(body: string): unknown {
    this.ensureTransaction();
    try {
      this.ctx.clearCaches();
      this.checkRegexpFlags(body);
      const fn = vm.runInContext(functionSource(this.globals(), '', body), this.context, { filename: 'plv8-inline.js', lineOffset: -1 }) as () => unknown;
      return fn.call(this.ctx.newObject());
    } catch (e) {
      throw this.fail(e, 'inline code block');
    }
  }

  /**
   * `plv8.execute` for the caller (Node realm): runs SQL in the host's transaction with PLV8
   * conversions. A SQL error is thrown (Error with sqlerrcode, ...) without aborting the
   * transaction, exactly like plv8.execute inside a procedure.
   */
  execute(sql: string, params: readonly unknown[] = []): Row[] | number {
    this.ensureTransaction();
    return this.mainApi.execute(sql, params);
  }

  /** The PLV8 API object of the Node realm (execute, prepare, subtransaction, quote_*, ...). */
  get plv8(): Plv8Api {
    this.ensureTransaction();
    return this.mainApi;
  }

  // ------------------------------------------------------------------------------------------
  // Internals

  private ensureOpen(): void {
    if (this.state === 'closed') throw new Plv8Error('the PLV8 host is closed', '08003');
    if (!this.channel.alive) throw new Plv8Error('the PLV8 host lost its database connection', '08006');
  }

  private ensureTransaction(): void {
    this.ensureOpen();
    if (this.state !== 'transaction') throw new Plv8Error('no transaction is open: call begin() first', '25P01');
  }

  private request(req: WorkerRequest): WorkerResponse {
    this.requests++;
    const res = this.channel.request(req);
    if (res.ok && res.prefetching) this.readAheads++;
    for (const n of res.notices) this.emitNotice(n);
    return res;
  }

  /** BEGIN, COMMIT or ROLLBACK: the transaction's cursors, and what they read ahead, are gone. */
  private simple(sql: string): { command: string | null } {
    let res: WorkerResponse;
    this.endTransaction();
    try {
      res = this.request({ op: 'simple', sql, savepoint: false, drop: true });
    } catch (e) {
      throw this.fail(e, undefined);
    }
    if (!res.ok) {
      throw new Plv8Error(res.error.message, res.error.sqlstate, { ...(res.error.detail ? { detail: res.error.detail } : {}), ...(res.error.hint ? { hint: res.error.hint } : {}) });
    }
    return res.results[0] ?? { command: null };
  }

  /** What lived in the transaction (cursors, what they read ahead, subtransactions) is gone. */
  private endTransaction(): void {
    this.txEpoch++;
    this.subxacts.length = 0;
    this.subxactsRolledBack.clear();
  }

  private emit(m: HostMessage): void {
    this.onMessage(m);
  }

  private emitNotice(n: Notice): void {
    const m: HostMessage = { level: levelOfSeverity(n.severity), message: n.message, source: 'sql' };
    if (n.detail) m.detail = n.detail;
    if (n.hint) m.hint = n.hint;
    this.emit(m);
  }

  /** Compiles every served function now; one that does not compile fails when it is called. */
  private precompile(): void {
    for (const name of this.procs.keys()) {
      try {
        this.compile(name);
      } catch {
        /* thrown again by the call */
      }
    }
  }

  /** The globals bodies are compiled with (global-bindings.ts): looked up once, after `plv8` is installed. */
  private globals(): string {
    return (this.boundNames ??= boundGlobals(this.context));
  }

  private compile(name: string): (...args: unknown[]) => unknown {
    let fn = this.compiled.get(name);
    if (!fn) {
      const p = this.procs.get(name);
      if (!p) throw new Plv8Error(`function ${name} is not in the PLV8 bundle`, '42883');
      this.checkRegexpFlags(p.body);
      const src = functionSource(this.globals(), p.args.map((a) => a[0]).join(', '), p.body);
      fn = vm.runInContext(src, this.context, { filename: `${name}.plv8.js`, lineOffset: -1 }) as (...args: unknown[]) => unknown;
      this.compiled.set(name, fn);
    }
    return fn;
  }

  /**
   * V8 10.2 rejects a regular expression literal with the `v` flag when it compiles the body;
   * Node's V8 accepts it, and no run-time change to the context can take that back.
   */
  private checkRegexpFlags(body: string): void {
    if (!MAYBE_V_FLAG.test(body)) return;
    let problem = regexpFlagProblems.get(body);
    if (problem === undefined) {
      const hit = scanForMissingBuiltins(body).find((f) => f.kind === 'regexp-v-flag' && !f.what.startsWith('RegExp('));
      problem = hit ? `Invalid regular expression flags (line ${hit.line}: ${hit.what})` : null;
      regexpFlagProblems.set(body, problem);
    }
    if (problem !== null) throw new this.contextSyntaxError(problem);
  }

  private signature(p: GeneratedProcedure): Signature {
    let sig = this.signatures.get(p.name);
    if (!sig) {
      if (this.signatures.size === 0) this.resolveSignatureTypes();
      const shape = returnShape(p);
      sig = {
        argOids: p.args.map(([, t]) => this.main.typeOid(t)),
        setof: isSetReturning(p),
        ret: shape.kind === 'void' ? { kind: 'void' }
          : shape.kind === 'scalar' ? { kind: 'scalar', oid: this.main.typeOid(shape.type) }
          : { kind: 'table', columns: shape.columns.map(([n, t]) => [n, this.main.typeOid(t)] as [string, number]) },
      };
      if (sig.ret.kind === 'scalar' && sig.ret.oid === OID.void) sig.ret = { kind: 'void' };
      this.signatures.set(p.name, sig);
    }
    return sig;
  }

  /**
   * The type names of every served signature in one round trip, not one each, for both realms
   * (the names mean the same in both: one session). A name that does not resolve leaves all to
   * be looked up, and fail, one by one.
   */
  private resolveSignatureTypes(): void {
    const names = new Set<string>();
    for (const p of this.procs.values()) {
      for (const [, t] of p.args) names.add(t);
      let shape: ReturnType<typeof returnShape>;
      try {
        shape = returnShape(p);
      } catch {
        continue; // reported when that procedure is called
      }
      if (shape.kind === 'scalar') names.add(shape.type);
      if (shape.kind === 'table') for (const [, t] of shape.columns) names.add(t);
    }
    const list = [...names];
    const oids = this.main.typeOids(list);
    if (oids) this.ctx.knowTypeOids(list, oids);
  }

  /** Texts through the server's input and output functions (validation as in SQL). */
  private normalize(texts: Array<string | null>, oids: readonly number[]): Array<string | null> {
    const idx = oids.map((o, i) => (PSEUDO.has(o) || texts[i] === null ? -1 : i)).filter((i) => i >= 0);
    if (idx.length === 0) return texts;
    const out = this.main.roundTrip(idx.map((i) => texts[i] as string), idx.map((i) => oids[i] as number));
    const res = texts.slice();
    idx.forEach((i, k) => {
      res[i] = out[k] ?? null;
    });
    return res;
  }

  private convertReturn(ret: unknown, sig: Signature): unknown {
    if (isThenable(ret)) throw new Plv8Error('the procedure returned a Promise: PLV8 has no event loop, procedures must be synchronous', 'XX000');
    if (sig.ret.kind === 'void') return undefined;
    if (sig.ret.kind === 'table') return this.decodeRow(this.encodeRow(ret, sig), sig);
    const oid = sig.ret.oid;
    const text = this.normalize([this.main.encode(ret, oid)], [oid])[0] ?? null;
    return this.main.decode(text, oid);
  }

  private encodeRow(row: unknown, sig: Signature): Array<string | null> {
    if (sig.ret.kind === 'table') {
      if (row === null || row === undefined) return sig.ret.columns.map(() => null);
      if (typeof row !== 'object') throw new Error('field name / property name mismatch');
      const obj = row as Record<string, unknown>;
      return sig.ret.columns.map(([name, oid]) => {
        if (!(name in obj)) throw new Error('field name / property name mismatch');
        return this.main.encode(obj[name], oid);
      });
    }
    if (sig.ret.kind === 'scalar') return [this.main.encode(row, sig.ret.oid)];
    return [null];
  }

  private decodeRow(texts: Array<string | null>, sig: Signature): unknown {
    if (sig.ret.kind === 'table') {
      const o: Record<string, unknown> = {};
      sig.ret.columns.forEach(([name, oid], i) => {
        o[name] = this.main.decode(texts[i] ?? null, oid);
      });
      return o;
    }
    if (sig.ret.kind === 'scalar') return this.main.decode(texts[0] ?? null, sig.ret.oid);
    return undefined;
  }

  /** PLV8's error for an exception leaving a procedure; the transaction is rolled back. */
  private fail(e: unknown, procedure: string | undefined): Plv8Error {
    const err = e instanceof Plv8Error ? e : toPlv8Error(e, procedure);
    if (e instanceof ChannelError && !this.channel.alive) this.state = 'closed';
    if (this.state === 'transaction') {
      this.state = 'idle';
      try {
        this.endTransaction();
        this.request({ op: 'simple', sql: 'ROLLBACK', savepoint: false, drop: true });
      } catch {
        /* the connection is gone: nothing to roll back */
      }
    }
    return err;
  }
}

/** A slash, regexp flags including v, then no identifier character: cheap test before a scan. */
const MAYBE_V_FLAG = /\/[dgimsuy]*v[dgimsuy]*(?![\w$])/;
/** Scan results per body (bodies repeat across hosts): the SyntaxError message, or null. */
const regexpFlagProblems = new Map<string, string | null>();

function isThenable(v: unknown): boolean {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

/** How PLV8 reports an uncaught JS exception: String(e) minus "Error: ", code from `e.code`. */
function toPlv8Error(e: unknown, procedure: string | undefined): Plv8Error {
  let message: string;
  try {
    message = String(e);
  } catch {
    message = 'unknown exception';
  }
  message = message.replace(/^Error: /, '');
  const x = (typeof e === 'object' && e !== null ? e : {}) as Record<string, unknown>;
  // As js_error::init: `code` through Int32Value (0, e.g. from 'P0001', means none), detail
  // and hint through ToString, each unless undefined or null.
  const present = (v: unknown) => v !== undefined && v !== null;
  const text = (v: unknown) => {
    try {
      return String(v);
    } catch {
      return '?';
    }
  };
  let packed = 0;
  try {
    packed = present(x.code) ? Number(x.code) | 0 : 0;
  } catch {
    packed = 0;
  }
  let code = packed !== 0 ? unpackSqlstate(packed) : 'XX000';
  if (e instanceof ChannelError) code = e.fields.sqlstate;
  const extra: { detail?: string; hint?: string; procedure?: string; cause?: unknown; jsStack?: string } = { cause: e };
  if (present(x.detail)) extra.detail = text(x.detail);
  if (present(x.hint)) extra.hint = text(x.hint);
  if (typeof x.stack === 'string') extra.jsStack = x.stack;
  if (procedure !== undefined) extra.procedure = procedure;
  return new Plv8Error(message, code, extra);
}
