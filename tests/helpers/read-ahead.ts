/**
 * For the Node host's cursor read-ahead tests: a PLV8 body run on a host that reads ahead and
 * on one that does not, each in a transaction of its own (rolled back); the answers must match.
 */
import { expect } from 'vitest';
import type { Plv8Host } from '../../packages/plv8/src/index.ts';

/** `body` after `prelude` in the host's PLV8 realm; its answer through JSON. */
export function runBody(h: Plv8Host, prelude: string, body: string): unknown {
  return JSON.parse(h.run(`${prelude}\nreturn JSON.stringify((function () { ${body} })());`) as string);
}

function inTransaction(h: Plv8Host, prelude: string, body: string): unknown {
  h.begin();
  try {
    return runBody(h, prelude, body);
  } finally {
    h.rollback();
  }
}

/** Equal answers on both hosts (the second never reads ahead): the answer, and the chunks the first read ahead. */
export function onBoth(on: Plv8Host, off: Plv8Host, prelude: string, body: string): { value: any; readAheads: number } {
  const before = on.readAheads;
  const a = inTransaction(on, prelude, body);
  const readAheads = on.readAheads - before;
  const b = inTransaction(off, prelude, body);
  expect(a).toEqual(b);
  expect(off.readAheads).toBe(0);
  return { value: a, readAheads };
}
