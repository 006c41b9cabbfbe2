/**
 * The JavaScript level of the oldest server the bundle must run on: PLV8 3.1.10 as Debian
 * builds it, on V8 10.2 (upstream 3.1 pins 9.7, which lacks the same things). Node 20 runs
 * V8 11.3, so without this the host and the build would accept built-ins the server lacks.
 *
 * One list, used twice: `restrictToV8Baseline` deletes the names from a vm context (the Node
 * PLV8 host's), and `scanForMissingBuiltins` finds uses of them in bundle source (the build).
 */
import vm from 'node:vm';

export const V8_BASELINE = '10.2';

export interface MissingBuiltin {
  /** Where the property lives: 'globalThis', 'Array', 'Array.prototype', 'TypedArray.prototype', ... */
  owner: string;
  name: string;
  /** First V8 version that ships it (all are later than V8_BASELINE). */
  since: string;
  /**
   * How the scanner looks for it. 'member': any `.name` (the name is distinctive);
   * 'call': only `.name(` (the name is common enough for a method of one's own to have it);
   * 'static': `Owner.name` with the owner's own name; 'none': removed from the host but not
   * scanned (the name also belongs to built-ins V8 10.2 has).
   */
  scan: 'member' | 'call' | 'static' | 'none';
}

const m = (owner: string, since: string, scan: MissingBuiltin['scan'], ...names: string[]): MissingBuiltin[] =>
  names.map((name) => ({ owner, name, since, scan }));

/** What V8 10.2 lacks and Node's V8 may have (each entry is removed only where it exists). */
export const MISSING_BUILTINS: readonly MissingBuiltin[] = [
  ...m('Array.prototype', '11.0', 'member', 'toSorted', 'toReversed', 'toSpliced'),
  ...m('Array.prototype', '11.0', 'call', 'with'),
  ...m('TypedArray.prototype', '11.0', 'member', 'toSorted', 'toReversed'),
  ...m('TypedArray.prototype', '11.0', 'call', 'with'),
  ...m('String.prototype', '11.1', 'member', 'isWellFormed', 'toWellFormed'),
  ...m('ArrayBuffer.prototype', '11.1', 'call', 'resize'),
  ...m('ArrayBuffer.prototype', '11.1', 'none', 'resizable', 'maxByteLength'),
  ...m('SharedArrayBuffer.prototype', '11.1', 'none', 'grow', 'growable', 'maxByteLength'),
  ...m('RegExp.prototype', '11.2', 'member', 'unicodeSets'),
  ...m('ArrayBuffer.prototype', '11.4', 'member', 'transferToFixedLength'),
  ...m('ArrayBuffer.prototype', '11.4', 'call', 'transfer'),
  ...m('ArrayBuffer.prototype', '11.4', 'none', 'detached'),
  ...m('JSON', '11.4', 'static', 'rawJSON', 'isRawJSON'),
  ...m('Object', '11.7', 'static', 'groupBy'),
  ...m('Map', '11.7', 'static', 'groupBy'),
  ...m('Array', '12.1', 'static', 'fromAsync'),
  ...m('Promise', '12.2', 'static', 'withResolvers'),
  ...m('Set.prototype', '12.2', 'member', 'symmetricDifference', 'isSubsetOf', 'isSupersetOf', 'isDisjointFrom'),
  ...m('Set.prototype', '12.2', 'call', 'union', 'intersection', 'difference'),
  ...m('globalThis', '12.2', 'none', 'Iterator'),
  ...m('Promise', '12.8', 'static', 'try'),
  ...m('Intl', '12.9', 'static', 'DurationFormat'),
  ...m('Intl.NumberFormat.prototype', '10.6', 'none', 'formatRange', 'formatRangeToParts'),
  ...m('Intl.PluralRules.prototype', '10.6', 'none', 'selectRange'),
  ...m('Atomics', '13.3', 'static', 'pause'),
  ...m('Error', '13.4', 'static', 'isError'),
  ...m('globalThis', '13.5', 'none', 'Float16Array'),
  ...m('Math', '13.5', 'static', 'f16round', 'sumPrecise'),
  ...m('DataView.prototype', '13.5', 'member', 'getFloat16', 'setFloat16'),
  ...m('RegExp', '13.6', 'static', 'escape'),
  ...m('Uint8Array', '14.0', 'static', 'fromBase64', 'fromHex'),
  ...m('Uint8Array.prototype', '14.0', 'member', 'toBase64', 'toHex', 'setFromBase64', 'setFromHex'),
];

/**
 * Runs inside the context: deletes every listed built-in that exists there (and the matching
 * Array unscopables), makes the prototypes it deleted from fast again, and makes `RegExp(..., flags)` with the `v` flag throw V8 10.2's
 * SyntaxError. The wrapper replaces only the global binding: `RegExp.prototype.constructor`
 * stays the intrinsic, which keeps V8's fast regexp paths.
 */
const RESTRICT_SOURCE = `(function (list) {
  'use strict';
  const resolve = (path) => {
    if (path === 'globalThis') return globalThis;
    const parts = path.split('.');
    let o = parts[0] === 'TypedArray' ? Object.getPrototypeOf(Int8Array) : globalThis[parts[0]];
    for (let i = 1; i < parts.length && o != null; i++) o = o[parts[i]];
    return o;
  };
  const unscopables = Array.prototype[Symbol.unscopables];
  for (const [owner, name] of list) {
    const o = resolve(owner);
    if (o != null && Object.prototype.hasOwnProperty.call(o, name)) delete o[name];
    if (owner === 'Array.prototype' && unscopables) delete unscopables[name];
  }
  // A delete leaves the prototype in dictionary mode, which every later method lookup pays
  // for (String.prototype: the engine ran at about half speed). V8 makes a prototype fast
  // again once a load through an object inheriting from it has feedback: a loop long enough for
  // the feedback vector to be allocated.
  for (const [owner] of list) {
    if (!owner.endsWith('.prototype')) continue;
    const o = resolve(owner);
    if (o == null) continue;
    const probe = Object.create(o);
    for (let i = 0; i < 1000; i++) void probe.constructor;
  }
  const Intrinsic = RegExp;
  const check = (args) => {
    const flags = args[1];
    if (flags === undefined) return;
    const text = String(flags);
    if (text.includes('v')) throw new SyntaxError("Invalid flags supplied to RegExp constructor '" + text + "'");
  };
  const Wrapped = new Proxy(Intrinsic, {
    apply(target, self, args) { check(args); return Reflect.apply(target, self, args); },
    construct(target, args, newTarget) {
      check(args);
      return Reflect.construct(target, args, newTarget === Wrapped ? target : newTarget);
    },
  });
  Object.defineProperty(globalThis, 'RegExp', { value: Wrapped, writable: true, enumerable: false, configurable: true });
})`;

/** Makes a vm context lack what V8 10.2 lacks (run it before any other code in the context). */
export function restrictToV8Baseline(context: vm.Context): void {
  const fn = vm.runInContext(RESTRICT_SOURCE, context, { filename: 'plv8-host-v8-baseline.js' }) as (list: string[][]) => void;
  fn(MISSING_BUILTINS.map((b) => [b.owner, b.name]));
}

// ---------------------------------------------------------------------------------------------
// Scanner

export interface BaselineFinding {
  kind: 'builtin' | 'regexp-v-flag';
  /** `Array.prototype.toSorted`, or the regular expression as written. */
  what: string;
  since: string;
  line: number;
  column: number;
  /** The source line, trimmed to about 120 characters around the use. */
  excerpt: string;
}

type TokType = 'ident' | 'punct' | 'string' | 'template' | 'number' | 'regex' | 'private';
interface Token { type: TokType; value: string; start: number; flags?: string }

const KEYWORDS_BEFORE_EXPRESSION = new Set([
  'return', 'typeof', 'instanceof', 'in', 'of', 'new', 'delete', 'void', 'throw', 'case', 'do', 'else', 'yield', 'await',
]);
const PAREN_KEYWORDS = new Set(['if', 'while', 'for', 'with']);
/** Only the multi-character punctuators that matter for telling a regexp from a division. */
const PUNCTUATORS = ['...', '?.', '++', '--', '=>'];
const isIdStartCode = (c: number) => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 36 || c === 92 || c >= 128;
const isDigitCode = (c: number) => c >= 48 && c <= 57;
const isIdPartCode = (c: number) => isIdStartCode(c) || isDigitCode(c);
const isIdStart = (c: string) => c !== '' && isIdStartCode(c.charCodeAt(0));
const isSpaceCode = (c: number) => c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0xfeff || c === 0x2028 || c === 0x2029;

/** A small ECMAScript tokenizer: enough to tell code from strings, comments, templates and regexps. */
function tokenize(src: string): Token[] {
  const out: Token[] = [];
  const braces: Array<'block' | 'template'> = [];
  const parens: boolean[] = [];
  let i = 0;
  const n = src.length;
  let regexAllowed = true;
  let afterParenKeyword = false;
  if (src.startsWith('#!')) while (i < n && src[i] !== '\n') i++;

  const readTemplateChunk = (start: number): void => {
    // from just after ` or }, up to and including the closing ` or ${
    let j = start;
    while (j < n) {
      const c = src[j];
      if (c === '\\') { j += 2; continue; }
      if (c === '`') { j++; out.push({ type: 'template', value: src.slice(start - 1, j), start: start - 1 }); regexAllowed = false; i = j; return; }
      if (c === '$' && src[j + 1] === '{') { j += 2; braces.push('template'); regexAllowed = true; i = j; return; }
      j++;
    }
    i = n;
  };

  while (i < n) {
    const code = src.charCodeAt(i);
    if (isSpaceCode(code)) { i++; continue; }
    const c = src[i] as string;
    if (c === '/' && src[i + 1] === '/') { while (i < n && src[i] !== '\n') i++; continue; }
    if (c === '/' && src[i + 1] === '*') { const e = src.indexOf('*/', i + 2); i = e < 0 ? n : e + 2; continue; }
    const start = i;
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < n && src[j] !== c && src[j] !== '\n') j += src[j] === '\\' ? 2 : 1;
      i = j + 1;
      out.push({ type: 'string', value: src.slice(start + 1, j), start });
      regexAllowed = false;
      continue;
    }
    if (c === '`') { readTemplateChunk(i + 1); continue; }
    if (c === '}' && braces[braces.length - 1] === 'template') { braces.pop(); readTemplateChunk(i + 1); continue; }
    if (c === '/' && regexAllowed) {
      let j = i + 1;
      let inClass = false;
      while (j < n && src[j] !== '\n') {
        const d = src[j];
        if (d === '\\') { j += 2; continue; }
        if (d === '[') inClass = true;
        else if (d === ']') inClass = false;
        else if (d === '/' && !inClass) break;
        j++;
      }
      let k = j + 1;
      while (k < n && isIdPartCode(src.charCodeAt(k))) k++;
      out.push({ type: 'regex', value: src.slice(start, k), start, flags: src.slice(j + 1, k) });
      i = k;
      regexAllowed = false;
      continue;
    }
    if (isDigitCode(code) || (c === '.' && isDigitCode(src.charCodeAt(i + 1)))) {
      const hex = c === '0' && (src[i + 1] === 'x' || src[i + 1] === 'X');
      let j = i + 1;
      for (; j < n; j++) {
        const d = src.charCodeAt(j);
        if (isIdPartCode(d) || d === 46) continue;
        if ((d === 43 || d === 45) && !hex && (src[j - 1] === 'e' || src[j - 1] === 'E')) continue;
        break;
      }
      out.push({ type: 'number', value: src.slice(start, j), start });
      i = j;
      regexAllowed = false;
      continue;
    }
    if (c === '#' && isIdStart(src[i + 1] ?? '')) {
      let j = i + 1;
      while (j < n && isIdPartCode(src.charCodeAt(j))) j++;
      out.push({ type: 'private', value: src.slice(start, j), start });
      i = j;
      regexAllowed = false;
      continue;
    }
    if (isIdStartCode(code)) {
      let j = i + 1;
      while (j < n && isIdPartCode(src.charCodeAt(j))) j++;
      const word = src.slice(start, j);
      const prev = out[out.length - 1];
      const isProperty = prev !== undefined && prev.type === 'punct' && (prev.value === '.' || prev.value === '?.');
      out.push({ type: 'ident', value: word, start });
      i = j;
      regexAllowed = !isProperty && KEYWORDS_BEFORE_EXPRESSION.has(word);
      afterParenKeyword = !isProperty && PAREN_KEYWORDS.has(word);
      continue;
    }
    let p = c;
    for (const q of PUNCTUATORS) if (src.startsWith(q, i)) { p = q; break; }
    if (p === '?.' && isDigitCode(src.charCodeAt(i + 2))) p = '?';
    i += p.length;
    out.push({ type: 'punct', value: p, start });
    if (p === '{') braces.push('block');
    else if (p === '}') braces.pop();
    if (p === '(') parens.push(afterParenKeyword);
    afterParenKeyword = false;
    if (p === ')') regexAllowed = parens.pop() === true;
    else regexAllowed = !(p === ']' || p === '++' || p === '--');
  }
  return out;
}

function position(src: string, offset: number): { line: number; column: number; excerpt: string } {
  let line = 1;
  let lineStart = 0;
  for (let k = src.indexOf('\n'); k >= 0 && k < offset; k = src.indexOf('\n', k + 1)) {
    line++;
    lineStart = k + 1;
  }
  const end = src.indexOf('\n', offset);
  const text = src.slice(lineStart, end < 0 ? src.length : end);
  const col = offset - lineStart;
  const from = Math.max(0, col - 60);
  const excerpt = (from > 0 ? '…' : '') + text.slice(from, col + 60).trim() + (col + 60 < text.length ? '…' : '');
  return { line, column: col + 1, excerpt };
}

const BY_NAME = new Map<string, MissingBuiltin[]>();
for (const b of MISSING_BUILTINS) {
  if (b.scan === 'none') continue;
  const list = BY_NAME.get(b.name) ?? [];
  list.push(b);
  BY_NAME.set(b.name, list);
}

const ownerName = (owner: string) => owner.split('.').pop() as string;

/**
 * Uses in `source` of what V8 10.2 lacks: member accesses of the listed names (see
 * MissingBuiltin.scan), regular expression literals with the `v` flag, and `RegExp(…, 'v…')`
 * with literal flags. Strings, comments and template text are skipped; a method of one's own
 * with a listed 'member' name is reported too (rename it).
 */
export function scanForMissingBuiltins(source: string): BaselineFinding[] {
  const toks = tokenize(source);
  const found: BaselineFinding[] = [];
  const add = (kind: BaselineFinding['kind'], what: string, since: string, offset: number) => {
    found.push({ kind, what, since, ...position(source, offset) });
  };
  for (let k = 0; k < toks.length; k++) {
    const t = toks[k] as Token;
    if (t.type === 'regex' && t.flags?.includes('v')) {
      add('regexp-v-flag', t.value, '11.2', t.start);
      continue;
    }
    if (t.type === 'ident' && t.value === 'RegExp' && toks[k + 1]?.value === '(') {
      let depth = 0;
      let j = k + 1;
      for (; j < toks.length; j++) {
        const v = (toks[j] as Token).value;
        if ((toks[j] as Token).type !== 'punct') continue;
        if (v === '(' || v === '[' || v === '{') depth++;
        else if (v === ')' || v === ']' || v === '}') depth--;
        if (depth === 0 || (depth === 1 && v === ',')) break;
      }
      const flags = toks[j + 1];
      if (toks[j]?.value === ',' && flags?.type === 'string' && flags.value.includes('v')) {
        add('regexp-v-flag', `RegExp(…, '${flags.value}')`, '11.2', t.start);
      }
      continue;
    }
    if (t.type !== 'ident') continue;
    const prev = toks[k - 1];
    if (!prev || prev.type !== 'punct' || (prev.value !== '.' && prev.value !== '?.')) continue;
    const candidates = BY_NAME.get(t.value);
    if (!candidates) continue;
    const next = toks[k + 1];
    const called = next?.type === 'punct' && (next.value === '(' || (next.value === '?.' && toks[k + 2]?.value === '('));
    const receiver = toks[k - 2];
    for (const b of candidates) {
      const hit = b.scan === 'member' ? true
        : b.scan === 'call' ? called
        : receiver?.type === 'ident' && receiver.value === ownerName(b.owner) && toks[k - 3]?.value !== '.';
      if (hit) {
        add('builtin', `${b.owner}.${b.name}`, b.since, t.start);
        break;
      }
    }
  }
  return found;
}

/** A readable report of findings, or '' when there are none. */
export function describeFindings(findings: readonly BaselineFinding[], label: string): string {
  if (findings.length === 0) return '';
  const lines = findings.map((f) => `  ${label}:${f.line}:${f.column}: ${f.kind === 'builtin' ? f.what : `regular expression flag v (${f.what})`} `
    + `needs V8 ${f.since}, the server has ${V8_BASELINE}: ${f.excerpt}`);
  return `${label} uses JavaScript that PLV8 3.1.10 (V8 ${V8_BASELINE}) lacks:\n${lines.join('\n')}`;
}
