/** IdIndex (the batch's order id table) against a Map, on random operations with many repeats. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ABSENT, IdIndex } from '../src/id-index.ts';

const idArb = fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('', 'a', 'A', '\u0000', 'é', '😀', 'x'.repeat(300)), fc.integer({ min: 0, max: 5000 }).map(String));
const opArb = fc.tuple(fc.constantFrom('get', 'set', 'add'), idArb, fc.integer({ min: -2, max: 1 << 30 }));

describe('IdIndex', () => {
  it('answers get/set/add like a Map (add keeps the first value)', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 3000 }), (ops) => {
        const ix = new IdIndex();
        const ref = new Map<string, number>();
        for (const [op, id, v] of ops) {
          if (op === 'get') expect(ix.get(id)).toBe(ref.get(id));
          else if (op === 'set') {
            ix.set(id, v);
            ref.set(id, v);
          } else {
            const before = ref.get(id);
            expect(ix.add(id, v)).toBe(before === undefined ? ABSENT : before);
            if (before === undefined) ref.set(id, v);
          }
          expect(ix.size).toBe(ref.size);
        }
        for (const [id, v] of ref) expect(ix.get(id)).toBe(v);
      }),
      { numRuns: 200 },
    );
  });

  it('keeps 100,000 distinct ids through its growth', () => {
    const ix = new IdIndex();
    for (let i = 0; i < 100_000; i++) expect(ix.add(`S1-USD-${i}`, i)).toBe(ABSENT);
    for (let i = 0; i < 100_000; i++) expect(ix.get(`S1-USD-${i}`)).toBe(i);
    expect(ix.get('S1-USD-100000')).toBeUndefined();
    expect(ix.size).toBe(100_000);
  });

  it('a table made after another was released starts empty (it may reuse the storage)', () => {
    const first = new IdIndex(1000);
    for (let i = 0; i < 1000; i++) first.add(`a${i}`, i);
    first.release();
    const second = new IdIndex(1000);
    expect(second.size).toBe(0);
    for (let i = 0; i < 1000; i++) expect(second.get(`a${i}`)).toBeUndefined();
    for (let i = 0; i < 1000; i++) expect(second.add(`b${i}`, i)).toBe(ABSENT);
    expect(second.add('b7', 99)).toBe(7);
    const third = new IdIndex(1000); // the storage is not shared while `second` is in use
    expect(third.add('b7', 1)).toBe(ABSENT);
    expect(second.get('b7')).toBe(7);
  });
});
