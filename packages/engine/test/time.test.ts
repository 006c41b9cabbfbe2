/** isValidTime against a reference (a pattern and the calendar of Date), on valid times and their one-character mutations. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isValidTime } from '../src/validate.ts';

function reference(t: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.\d{6}Z$/.exec(t);
  if (m === null) return false;
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  if (year < 1 || month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59 || day < 1) return false;
  const last = new Date(0);
  last.setUTCFullYear(year, month, 0); // day 0 of the next month: the month's last day
  return day <= last.getUTCDate();
}

const pad = (n: number, w: number): string => String(n).padStart(w, '0');
const timeArb = fc
  .tuple(
    fc.oneof(fc.integer({ min: 0, max: 9999 }), fc.constantFrom(0, 1, 1900, 2000, 2023, 2024, 2100, 2400, 9999)),
    fc.integer({ min: 0, max: 13 }),
    fc.integer({ min: 0, max: 32 }),
    fc.integer({ min: 0, max: 24 }),
    fc.integer({ min: 0, max: 60 }),
    fc.integer({ min: 0, max: 60 }),
    fc.integer({ min: 0, max: 999999 }),
  )
  .map(([y, mo, d, h, mi, s, f]) => `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}T${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}.${pad(f, 6)}Z`);
const mutatedArb = fc
  .tuple(timeArb, fc.integer({ min: 0, max: 26 }), fc.constantFrom('0', '9', '/', ':', '-', '.', 'T', 'Z', 'a', ' ', '٣', '\uff10', '\u0130'))
  .map(([t, i, c]) => t.slice(0, i) + c + t.slice(i + 1));

describe('isValidTime', () => {
  it('agrees with the reference on times with any field in or out of range', () => {
    fc.assert(fc.property(timeArb, (t) => {
          expect(isValidTime(t)).toBe(reference(t));
        }), { numRuns: 20000 });
  });
  it('agrees with the reference on one-character mutations, and rejects other lengths', () => {
    fc.assert(fc.property(mutatedArb, (t) => {
          expect(isValidTime(t)).toBe(reference(t));
        }), { numRuns: 20000 });
    for (const t of ['2024-01-01T00:00:00.000000', '2024-01-01T00:00:00.0000000Z', '2024-02-29T23:59:59.999999Z ', '', 42, null]) expect(isValidTime(t)).toBe(false);
    expect(isValidTime('2024-02-29T23:59:59.999999Z')).toBe(true);
    expect(isValidTime('2023-02-29T23:59:59.999999Z')).toBe(false);
    expect(isValidTime('2000-02-29T00:00:00.000000Z')).toBe(true);
    expect(isValidTime('1900-02-29T00:00:00.000000Z')).toBe(false);
  });
});
