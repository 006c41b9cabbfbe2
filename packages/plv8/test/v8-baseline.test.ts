/** The V8 10.2 baseline scanner: finds what PLV8 3.1.10 lacks, and nothing in the real bundle. */
import { describe, expect, it } from 'vitest';
import { loadGeneratedProcedures } from '../src/procedures.ts';
import { describeFindings, MISSING_BUILTINS, scanForMissingBuiltins } from '../src/v8-baseline.ts';

const sample = [
  'const a = [3, 1].toSorted((x, y) => x - y);',
  'const s = "x.toSorted()"; // .toReversed() in a comment',
  'const r = /[a-z]/v, q = a.length / 2 / 3;',
  'const t = `${a.with(0, 1)} /not a regex/v ${`${b.toSpliced(0, 1)}`}`;',
  "if (q) /re/v.test('x');",
  'const g = Object.groupBy(a, (x) => x), h = my.groupBy(a), k = Promise.withResolvers();',
  "new RegExp('x', 'gv'); RegExp(a, 'g'); const w = /[/v]/g;",
  'obj.with; x = y / z / v; o.union; s.union(other); n = 1 / 2 /v;',
].join('\n');

describe('scanForMissingBuiltins', () => {
  it('finds members of the list and the v flag, with line, column and excerpt', () => {
    const found = scanForMissingBuiltins(sample);
    expect(found.map((f) => [f.line, f.what])).toEqual([
      [1, 'Array.prototype.toSorted'],
      [3, '/[a-z]/v'],
      [4, 'Array.prototype.with'],
      [4, 'Array.prototype.toSpliced'],
      [5, '/re/v'],
      [6, 'Object.groupBy'],
      [6, 'Promise.withResolvers'],
      [7, "RegExp(…, 'gv')"],
      [8, 'Set.prototype.union'],
    ]);
    expect(found[0]).toMatchObject({ kind: 'builtin', since: '11.0', column: 18, excerpt: 'const a = [3, 1].toSorted((x, y) => x - y);' });
    expect(found[1]).toMatchObject({ kind: 'regexp-v-flag', since: '11.2', column: 11 });
    expect(describeFindings(found.slice(0, 1), 'sample.js')).toBe(
      'sample.js uses JavaScript that PLV8 3.1.10 (V8 10.2) lacks:\n'
      + '  sample.js:1:18: Array.prototype.toSorted needs V8 11.0, the server has 10.2: const a = [3, 1].toSorted((x, y) => x - y);',
    );
    expect(describeFindings([], 'x')).toBe('');
  });

  it('finds nothing in the generated procedure bodies', () => {
    const procs = loadGeneratedProcedures();
    expect(procs.length).toBeGreaterThan(0);
    for (const p of procs) expect(describeFindings(scanForMissingBuiltins(p.body), p.name)).toBe('');
  });

  it('lists each built-in once, all newer than V8 10.2', () => {
    const keys = MISSING_BUILTINS.map((b) => `${b.owner}.${b.name}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (const b of MISSING_BUILTINS) expect(Number(b.since)).toBeGreaterThan(10.2);
  });
});
