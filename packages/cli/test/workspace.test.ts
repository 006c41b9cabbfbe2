/**
 * The packages are packages: one reaches another through the workspace (its name in
 * package.json and an `exports` entry), never by a relative path out of its own folder.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..', '..', '..');
const packageDirs = [...readdirSync(join(root, 'packages')).map((d) => join('packages', d)), 'functions'];

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (name === 'node_modules' || name === 'dist' || name === 'generated') return [];
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('the workspace', () => {
  it('has no import from one package into another by relative path', () => {
    const crossings: string[] = [];
    for (const pkg of packageDirs) {
      for (const file of tsFiles(join(root, pkg))) {
        for (const m of readFileSync(file, 'utf8').matchAll(/(?:from|import\()\s*'(\.{1,2}\/[^']+)'/g)) {
          const target = relative(root, resolve(dirname(file), m[1]!));
          if (!target.startsWith(`${pkg}/`)) crossings.push(`${relative(root, file)} → ${m[1]}`);
        }
      }
    }
    expect(crossings).toEqual([]);
  });

  it('declares the workspace packages each package imports', () => {
    const missing: string[] = [];
    for (const pkg of packageDirs) {
      const manifest = JSON.parse(readFileSync(join(root, pkg, 'package.json'), 'utf8')) as { name: string; dependencies?: Record<string, string> };
      const used = new Set<string>();
      for (const file of tsFiles(join(root, pkg))) {
        for (const m of readFileSync(file, 'utf8').matchAll(/(?:from|import\()\s*'(@fifo-ledger\/[a-z0-9-]+)/g)) used.add(m[1]!);
      }
      used.delete(manifest.name);
      for (const dep of used) if (manifest.dependencies?.[dep] !== 'workspace:*') missing.push(`${pkg} uses ${dep}`);
    }
    expect(missing).toEqual([]);
  });
});
