/**
 * A vm context's global object answers every lookup of a global name through an interceptor
 * (a call into Node's C++), so `Math.floor` or `Date.UTC` in a hot loop costs several times
 * what it costs at Node's own top level or in PLV8, where the globals are plain V8 globals. The
 * host compiles each body inside a function whose parameters are these names, bound once to the
 * context's own objects: the body sees the same objects (the same realm, the same V8 10.2
 * baseline restrictions), read from a closure. A body that assigns one of these names only
 * rebinds its own copy; nothing in PLV8 code needs that.
 */
import vm from 'node:vm';

const NAMES = [
  'Array', 'ArrayBuffer', 'BigInt', 'DataView', 'Date', 'Error', 'Float64Array', 'Int32Array', 'JSON', 'Map', 'Math',
  'Number', 'Object', 'RangeError', 'Reflect', 'RegExp', 'Set', 'String', 'Symbol', 'TypeError', 'Uint16Array',
  'Uint32Array', 'Uint8Array', 'WeakMap', 'isFinite', 'isNaN', 'parseFloat', 'parseInt', 'plv8',
] as const;

/** The names of NAMES the context defines now, comma separated (the baseline may have removed some). */
export function boundGlobals(context: vm.Context): string {
  const present = vm.runInContext(`${JSON.stringify(NAMES)}.filter((n) => typeof globalThis[n] !== 'undefined')`, context) as string[];
  return present.join(', ');
}

/**
 * Source of `(function (params) { body })` with the globals bound: one line before the body,
 * as the plain form has, so line numbers in stacks stay those of the body.
 */
export function functionSource(globals: string, params: string, body: string): string {
  return `(function (${globals}) { return (function (${params}) {\n${body}\n}); })(${globals})`;
}
