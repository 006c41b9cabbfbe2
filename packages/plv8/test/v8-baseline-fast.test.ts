/**
 * The host's V8 10.2 baseline deletes built-ins from prototypes (String.prototype.isWellFormed,
 * Array.prototype.toSorted, …), which leaves a prototype in dictionary mode; every method
 * lookup through it then costs more (the engine ran at about half speed in the host).
 * restrictToV8Baseline makes them fast again: checked with V8's own %HasFastProperties in a
 * child Node with natives syntax.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const baseline = fileURLToPath(new URL('../src/v8-baseline.ts', import.meta.url));

it('every prototype the baseline deletes from has fast properties afterwards, and lacks what it deleted', () => {
  const script = `
    import vm from 'node:vm';
    import { restrictToV8Baseline, MISSING_BUILTINS } from ${JSON.stringify(baseline)};
    const ctx = vm.createContext({});
    restrictToV8Baseline(ctx);
    const owners = [...new Set(MISSING_BUILTINS.map((b) => b.owner))].filter((o) => o.endsWith('.prototype'));
    const report = vm.runInContext(\`(function (owners, listed) {
      const resolve = (path) => path.split('.').reduce((o, k, i) => (i === 0 && k === 'TypedArray' ? Object.getPrototypeOf(Int8Array) : o == null ? o : o[k]), globalThis);
      return {
        fast: owners.filter((p) => resolve(p) != null).map((p) => [p, %HasFastProperties(resolve(p))]),
        present: listed.filter(([o, n]) => o.endsWith('.prototype') && resolve(o) != null && n in resolve(o)),
      };
    })\`, ctx)(owners, MISSING_BUILTINS.map((b) => [b.owner, b.name]));
    process.stdout.write(JSON.stringify(report));`;
  const out = execFileSync(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
  const report = JSON.parse(out) as { fast: Array<[string, boolean]>; present: unknown[] };
  expect(report.fast.length).toBeGreaterThan(3);
  expect(report.fast.filter(([, fast]) => !fast)).toEqual([]);
  expect(report.present).toEqual([]);
});
