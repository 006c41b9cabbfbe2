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

function inTransaction<T>(h: Plv8Host, go: (h: Plv8Host) => T): T {
  h.begin();
  try {
    return go(h);
  } finally {
    h.rollback();
  }
}

/** `go` on each host in a transaction of its own (rolled back): equal answers; the answer, and the chunks the first read ahead. */
export function inBoth<T>(on: Plv8Host, off: Plv8Host, go: (h: Plv8Host) => T): { value: T; readAheads: number } {
  const before = on.readAheads;
  const a = inTransaction(on, go);
  const readAheads = on.readAheads - before;
  expect(a).toEqual(inTransaction(off, go));
  return { value: a, readAheads };
}

/** Equal answers on both hosts (the second never reads ahead): the answer, and the chunks the first read ahead. */
export function onBoth(on: Plv8Host, off: Plv8Host, prelude: string, body: string): { value: any; readAheads: number } {
  const r = inBoth(on, off, (h) => runBody(h, prelude, body));
  expect(off.readAheads).toBe(0);
  return r;
}
