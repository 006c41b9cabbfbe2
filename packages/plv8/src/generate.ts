/**
 * Bundles functions/index.ts with esbuild and generates the PLV8 procedures
 * (packages/plv8/generated/procedures.json, which installProcedures() installs).
 * Deterministic: the same sources and esbuild version give byte-identical output.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import vm from 'node:vm';
import type * as esbuild from 'esbuild';
import { PLV8_VERSION } from './host/api.ts';
import { quoteIdent } from './host/convert.ts';
import { describeFindings, restrictToV8Baseline, scanForMissingBuiltins } from './v8-baseline.ts';
import { isSetReturning, repoRoot as defaultRepoRoot, type GeneratedProcedure, type Volatility } from './procedures.ts';

export const BUNDLE_GLOBAL = '__fifo_bundle';
/** The globalThis property where a session caches the evaluated bundle: { id, procedures }. */
export const CACHE_GLOBAL = '__fifo_ledger';
/** Prefix of COMMENT ON FUNCTION for generated functions (installProcedures reads it). */
export const COMMENT_PREFIX = 'fifo-ledger bundle ';

export interface BuildOptions {
  /** Entry module (default functions/index.ts under repoRoot). */
  entry?: string;
  repoRoot?: string;
  minify?: boolean;
}

export interface BuildResult {
  bundle: string;
  bundleId: string;
  procedures: GeneratedProcedure[];
  /** Contents of packages/plv8/generated/procedures.json. */
  json: string;
}

export class BuildError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BuildError';
  }
}

// ---------------------------------------------------------------------------------------------
// Environment check: PLV8 has no Node or Web host APIs.

const FORBIDDEN = new Set([
  'require', 'process', 'Buffer', 'setTimeout', 'setInterval', 'setImmediate', 'clearTimeout', 'clearInterval',
  'clearImmediate', 'queueMicrotask', '__dirname', '__filename', 'TextEncoder', 'TextDecoder', 'structuredClone',
  'atob', 'btoa', 'fetch', 'URL', 'URLSearchParams', 'crypto', 'performance', 'global',
]);
/** Names that are only reported when used as objects (`x.`), being plausible local names too. */
const FORBIDDEN_AS_OBJECT = new Set(['crypto', 'performance', 'global']);

export interface ForbiddenUse {
  name: string;
  line: number;
  excerpt: string;
}

/**
 * Free uses of Node/Web globals in bundled code: identifiers outside strings, comments and
 * regular expressions that are not property names (`x.process`) and not `typeof` probes.
 * A lexical scan, not a scope analysis: a local variable named like a forbidden global is
 * reported too (rename it).
 */
export function findForbiddenGlobals(code: string): ForbiddenUse[] {
  const found: ForbiddenUse[] = [];
  const n = code.length;
  let i = 0;
  let line = 1;
  let lastSignificant = ''; // last non-space char of code
  let lastWord = '';
  const templateDepth: number[] = []; // brace depth at which each open `${` started
  let braceDepth = 0;
  const regexAllowedAfter = new Set(['', '(', ',', '=', ':', '[', '!', '&', '|', '?', '{', '}', ';', '+', '-', '*', '%', '<', '>', '~', '^']);
  const kwBeforeRegex = new Set(['return', 'typeof', 'case', 'do', 'else', 'in', 'of', 'new', 'delete', 'void', 'throw', 'instanceof', 'yield', 'await']);

  const skipString = (q: string) => {
    i++;
    while (i < n && code[i] !== q) {
      if (code[i] === '\\') i++;
      else if (code[i] === '\n') line++;
      i++;
    }
    i++;
  };
  /** Scans template text from i (just after ` or }) to the closing ` or a `${`. */
  const skipTemplate = () => {
    while (i < n) {
      const c = code[i];
      if (c === '\\') { i += 2; continue; }
      if (c === '\n') line++;
      if (c === '`') { i++; return; }
      if (c === '$' && code[i + 1] === '{') {
        i += 2;
        templateDepth.push(braceDepth);
        braceDepth++;
        return;
      }
      i++;
    }
  };

  while (i < n) {
    const c = code[i] as string;
    if (c === '\n') { line++; i++; continue; }
    if (c === ' ' || c === '\t' || c === '\r') { i++; continue; }
    if (c === '/' && code[i + 1] === '/') {
      while (i < n && code[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && code[i + 1] === '*') {
      const end = code.indexOf('*/', i + 2);
      const stop = end < 0 ? n : end + 2;
      for (let k = i; k < stop; k++) if (code[k] === '\n') line++;
      i = stop;
      continue;
    }
    if (c === '"' || c === "'") { skipString(c); lastSignificant = 'x'; lastWord = ''; continue; }
    if (c === '`') { i++; skipTemplate(); lastSignificant = 'x'; lastWord = ''; continue; }
    if (c === '{') { braceDepth++; i++; lastSignificant = c; lastWord = ''; continue; }
    if (c === '}') {
      braceDepth--;
      i++;
      if (templateDepth.length > 0 && templateDepth[templateDepth.length - 1] === braceDepth) {
        templateDepth.pop();
        skipTemplate();
        lastSignificant = 'x';
      } else lastSignificant = c;
      lastWord = '';
      continue;
    }
    if (c === '/' && (regexAllowedAfter.has(lastSignificant) || kwBeforeRegex.has(lastWord))) {
      // regular expression literal
      i++;
      let inClass = false;
      while (i < n) {
        const d = code[i];
        if (d === '\\') { i += 2; continue; }
        if (d === '\n') break;
        if (d === '[') inClass = true;
        else if (d === ']') inClass = false;
        else if (d === '/' && !inClass) break;
        i++;
      }
      i++;
      while (i < n && /[a-z]/i.test(code[i] as string)) i++;
      lastSignificant = 'x';
      lastWord = '';
      continue;
    }
    if (/[A-Za-z_$]/.test(c)) {
      let j = i + 1;
      while (j < n && /[\w$]/.test(code[j] as string)) j++;
      const word = code.slice(i, j);
      if (FORBIDDEN.has(word) && lastSignificant !== '.' && !/^\d/.test(word)) {
        let k = j;
        while (k < n && /\s/.test(code[k] as string)) k++;
        const next = code[k] ?? '';
        const isKey = next === ':' && (lastSignificant === '{' || lastSignificant === ',');
        const isProbe = lastWord === 'typeof' && next !== '.' && next !== '(';
        const objectOnly = FORBIDDEN_AS_OBJECT.has(word) && next !== '.';
        if (!isKey && !isProbe && !objectOnly) {
          const ls = code.lastIndexOf('\n', i) + 1;
          const le = code.indexOf('\n', i);
          found.push({ name: word, line, excerpt: code.slice(ls, le < 0 ? n : le).trim().slice(0, 160) });
        }
      }
      lastWord = word;
      lastSignificant = 'w';
      i = j;
      continue;
    }
    if (/[0-9]/.test(c)) {
      let j = i + 1;
      while (j < n && /[\w.]/.test(code[j] as string)) j++;
      i = j;
      lastSignificant = 'x';
      lastWord = '';
      continue;
    }
    lastSignificant = c === ')' || c === ']' ? 'x' : c;
    lastWord = '';
    i++;
  }
  return found;
}

// ---------------------------------------------------------------------------------------------
// Procedure specs.

const NAME_RE = /^[a-z_][a-z0-9_]*$/;
const TYPE_RE = /^[A-Za-z_][A-Za-z0-9_ ,()[\]".]*$/;
const JS_RESERVED = new Set(('break case catch class const continue debugger default delete do else enum export extends ' +
  'false finally for function if import in instanceof new null return super switch this throw true try typeof var ' +
  'void while with yield let static implements interface package private protected public await arguments eval ' +
  'undefined NaN Infinity plv8').split(' '));
const VOLATILITIES = new Set<Volatility>(['VOLATILE', 'STABLE', 'IMMUTABLE']);

interface RawSpec {
  args?: unknown;
  returns?: unknown;
  volatility?: unknown;
  fn?: unknown;
  strict?: unknown;
  setof?: unknown;
}

function validateSpecs(procs: unknown): Array<Omit<GeneratedProcedure, 'body' | 'bundleId'>> {
  if (typeof procs !== 'object' || procs === null) {
    throw new BuildError('functions/index.ts must export `procedures`: Record<string, ProcedureSpec>');
  }
  const out: Array<Omit<GeneratedProcedure, 'body' | 'bundleId'>> = [];
  for (const name of Object.keys(procs).sort()) {
    const s = (procs as Record<string, RawSpec>)[name] as RawSpec;
    const where = `procedures.${name}`;
    if (!NAME_RE.test(name) || name.length > 63) throw new BuildError(`${where}: the SQL name must match ${NAME_RE} (≤ 63 chars)`);
    if (typeof s !== 'object' || s === null) throw new BuildError(`${where}: not a ProcedureSpec`);
    if (typeof s.fn !== 'function') throw new BuildError(`${where}.fn must be a function`);
    if (!Array.isArray(s.args)) throw new BuildError(`${where}.args must be an array of [name, sqlType]`);
    const args: Array<[string, string]> = [];
    const seen = new Set<string>();
    for (const a of s.args as unknown[]) {
      if (!Array.isArray(a) || a.length !== 2 || typeof a[0] !== 'string' || typeof a[1] !== 'string') {
        throw new BuildError(`${where}.args: each argument is [name, sqlType]`);
      }
      const [an, at] = a as [string, string];
      if (!NAME_RE.test(an) || an.startsWith('__fifo') || JS_RESERVED.has(an)) {
        throw new BuildError(`${where}: argument name ${JSON.stringify(an)} must be a lower-case identifier valid in SQL and JS`);
      }
      if (seen.has(an)) throw new BuildError(`${where}: duplicate argument ${an}`);
      seen.add(an);
      if (!TYPE_RE.test(at.trim())) throw new BuildError(`${where}: bad SQL type ${JSON.stringify(at)} for ${an}`);
      args.push([an, at.trim()]);
    }
    if (typeof s.returns !== 'string' || !TYPE_RE.test(s.returns.trim())) {
      throw new BuildError(`${where}.returns must be a SQL type (e.g. jsonb, void, TABLE(a int, b text))`);
    }
    if (typeof s.volatility !== 'string' || !VOLATILITIES.has(s.volatility as Volatility)) {
      throw new BuildError(`${where}.volatility must be VOLATILE, STABLE or IMMUTABLE`);
    }
    if (s.strict !== undefined && typeof s.strict !== 'boolean') throw new BuildError(`${where}.strict must be a boolean`);
    if (s.setof !== undefined && typeof s.setof !== 'boolean') throw new BuildError(`${where}.setof must be a boolean`);
    const returns = s.returns.trim().replace(/^setof\s+/i, '');
    out.push({
      name,
      args,
      returns,
      setof: s.setof === true || /^setof\s/i.test(s.returns.trim()),
      strict: s.strict === true,
      volatility: s.volatility as Volatility,
    });
  }
  if (out.length === 0) throw new BuildError('functions/index.ts exports no procedures');
  return out;
}

/** Evaluates the bundle the way PLV8 would (an empty V8 context + PLV8 globals) and reads the specs. */
function readSpecs(bundle: string): unknown {
  const ctx = vm.createContext({});
  restrictToV8Baseline(ctx);
  vm.runInContext(
    `var plv8 = new Proxy({}, { get(_, k) { if (k === 'version') return ${JSON.stringify(PLV8_VERSION)};
       return function () { throw new Error('plv8.' + String(k) + ' called while the bundle is being loaded'); }; } });
     var DEBUG5 = 10, DEBUG4 = 11, DEBUG3 = 12, DEBUG2 = 13, DEBUG1 = 14, LOG = 15, INFO = 17, NOTICE = 18, WARNING = 19, ERROR = 21;`,
    ctx,
  );
  let mod: { procedures?: unknown };
  try {
    mod = vm.runInContext(`${bundle}\n;${BUNDLE_GLOBAL}`, ctx, { filename: 'bundle.js' }) as { procedures?: unknown };
  } catch (e) {
    throw new BuildError(`the bundle fails when evaluated in an empty (PLV8-like) context: ${(e as Error).message}`);
  }
  return mod.procedures;
}

// ---------------------------------------------------------------------------------------------
// Function bodies and SQL.

/**
 * The PLV8 body of one procedure. PLV8 compiles it once per session but runs it on every call,
 * so the bundle is evaluated only when the session's cache holds another bundle id.
 */
export function procedureBody(bundle: string, bundleId: string, name: string, argNames: readonly string[]): string {
  const code = bundle.replace(/^(["'])use strict\1;?\n/, '').trimEnd();
  return [
    '',
    // The bundle is ES module code, hence strict; PLV8 compiles bodies as sloppy functions.
    `"use strict";`,
    `const __fifo_g = globalThis;`,
    `let __fifo_m = __fifo_g.${CACHE_GLOBAL};`,
    `if (__fifo_m === undefined || __fifo_m.id !== ${JSON.stringify(bundleId)}) {`,
    // Built-ins as closure locals: in the Node host's vm context a global lookup is several
    // times slower than in plain V8 (the bundle's hot loops use Math, BigInt, ...); harmless
    // in PLV8.
    `const { Math, BigInt, Number, String, JSON, Map, Set, Array, Object, Symbol, Error, TypeError, RangeError } = __fifo_g;`,
    code,
    `__fifo_m = __fifo_g.${CACHE_GLOBAL} = { id: ${JSON.stringify(bundleId)}, procedures: ${BUNDLE_GLOBAL}.procedures };`,
    `}`,
    `const __fifo_fn = __fifo_m.procedures[${JSON.stringify(name)}].fn;`,
    `return __fifo_fn(${argNames.join(', ')});`,
    '', // the body is stored between newlines: `AS $tag$\n…\n$tag$`
  ].join('\n');
}

/** A dollar-quote tag that occurs in none of `texts`. */
export function dollarTag(base: string, texts: readonly string[]): string {
  for (let k = 0; ; k++) {
    const tag = `$${base}${k === 0 ? '' : `_${k}`}$`;
    if (texts.every((t) => !t.includes(tag))) return tag;
  }
}

export function signatureOf(p: Pick<GeneratedProcedure, 'name' | 'args'>): string {
  return `${quoteIdent(p.name)}(${p.args.map(([, t]) => t).join(', ')})`;
}

export function returnsClause(p: GeneratedProcedure): string {
  if (/^table\s*\(/i.test(p.returns)) return p.returns;
  return `${isSetReturning(p) ? 'SETOF ' : ''}${p.returns}`;
}

export interface DdlOptions {
  /** `SET search_path` clause: 'current' (FROM CURRENT, default), a schema list, or null for none. */
  searchPath?: 'current' | string | null;
}

/** CREATE OR REPLACE FUNCTION … LANGUAGE plv8 + COMMENT ON FUNCTION (bundle id), unqualified. */
export function functionDdl(p: GeneratedProcedure, opts: DdlOptions = {}): string {
  const tag = dollarTag(`fifo_${p.bundleId.slice(0, 12)}`, [p.body]);
  const sp = opts.searchPath === undefined || opts.searchPath === 'current' ? 'SET search_path FROM CURRENT'
    : opts.searchPath === null ? null : `SET search_path TO ${opts.searchPath}`;
  const args = p.args.map(([n, t]) => `"${n}" ${t}`).join(', ');
  const attrs = [`LANGUAGE plv8 ${p.volatility}`, ...(p.strict ? ['STRICT'] : []), ...(sp ? [sp] : [])].join('\n  ');
  return [
    `CREATE OR REPLACE FUNCTION ${quoteIdent(p.name)}(${args})`,
    `  RETURNS ${returnsClause(p)}`,
    `  ${attrs}`,
    `AS ${tag}${p.body}${tag};`,
    `COMMENT ON FUNCTION ${signatureOf(p)} IS '${COMMENT_PREFIX}${p.bundleId}';`,
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------

export async function buildProcedures(opts: BuildOptions = {}): Promise<BuildResult> {
  const root = opts.repoRoot ?? defaultRepoRoot;
  const entry = opts.entry ?? join(root, 'functions', 'index.ts');
  let out: esbuild.BuildResult;
  try {
    const { build } = await import('esbuild'); // only the build needs it, not the installer
    out = await build({
      entryPoints: [entry],
      absWorkingDir: root,
      bundle: true,
      format: 'iife',
      globalName: BUNDLE_GLOBAL,
      platform: 'neutral',
      mainFields: ['module', 'main'],
      target: 'es2022',
      charset: 'utf8',
      legalComments: 'none',
      minify: opts.minify ?? false,
      write: false,
      logLevel: 'silent',
    });
  } catch (e) {
    const msgs = (e as { errors?: esbuild.Message[] }).errors ?? [];
    const text = msgs.map((m) => `${m.location ? `${m.location.file}:${m.location.line}: ` : ''}${m.text}`).join('\n');
    throw new BuildError(`esbuild failed:\n${text || (e as Error).message}`);
  }
  const bundle = out.outputFiles?.[0]?.text ?? '';
  const forbidden = findForbiddenGlobals(bundle);
  if (forbidden.length > 0) {
    const list = forbidden.slice(0, 20).map((f) => `  ${f.name} (bundle line ${f.line}): ${f.excerpt}`).join('\n');
    throw new BuildError(`the bundle uses APIs PLV8 does not have (no Node or Web globals in PLV8):\n${list}`);
  }
  const newer = describeFindings(scanForMissingBuiltins(bundle), 'the bundle');
  if (newer) throw new BuildError(newer);
  const bundleId = createHash('sha256').update(bundle).digest('hex');
  const specs = validateSpecs(readSpecs(bundle));
  const procedures: GeneratedProcedure[] = specs.map((s) => ({
    ...s,
    bundleId,
    body: procedureBody(bundle, bundleId, s.name, s.args.map((a) => a[0])),
  }));
  for (const p of procedures) {
    try {
      new vm.Script(`(function (${p.args.map((a) => a[0]).join(', ')}) {\n${p.body}\n})`, { filename: `${p.name}.plv8.js` });
    } catch (e) {
      throw new BuildError(`the body of ${p.name} does not parse as a PLV8 function body: ${(e as Error).message}`);
    }
  }
  return { bundle, bundleId, procedures, json: `${JSON.stringify(procedures, null, 2)}\n` };
}
