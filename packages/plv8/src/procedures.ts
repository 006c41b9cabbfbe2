/** The generated procedure descriptions (packages/plv8/generated/procedures.json). */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export type Volatility = 'VOLATILE' | 'STABLE' | 'IMMUTABLE';

export interface GeneratedProcedure {
  /** SQL function name (unqualified). */
  name: string;
  /** [argument name, SQL type] in order; the names are the JS parameter names too. */
  args: Array<[string, string]>;
  /** SQL return type: a type name, `void`, or `TABLE(col type, ...)`. */
  returns: string;
  setof: boolean;
  strict: boolean;
  volatility: Volatility;
  /** sha256 (hex) of the esbuild bundle inlined in `body`. */
  bundleId: string;
  /** The PLV8 function body: evaluates the bundle once per session, then calls the procedure. */
  body: string;
}

// Set by the compiled CLI's build: where the checkout's root is from the bundle's folder.
declare const __FIFO_ROOT_FROM_BUNDLE__: string | undefined;
/** The checkout's root: three folders up from packages/<name>/src (or from the bundle's folder). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)),
  typeof __FIFO_ROOT_FROM_BUNDLE__ === 'string' ? __FIFO_ROOT_FROM_BUNDLE__ : '../../..');
export const packageRoot = join(repoRoot, 'packages', 'plv8');
// Set by the npm package's build: the procedures' file beside the bundle, not in a checkout.
declare const __FIFO_PROCEDURES_FROM_ROOT__: string | undefined;
export const generatedProceduresPath = typeof __FIFO_PROCEDURES_FROM_ROOT__ === 'string'
  ? join(repoRoot, __FIFO_PROCEDURES_FROM_ROOT__)
  : join(packageRoot, 'generated', 'procedures.json');

export function loadGeneratedProcedures(path: string = generatedProceduresPath): GeneratedProcedure[] {
  return JSON.parse(readFileSync(path, 'utf8')) as GeneratedProcedure[];
}

export type ReturnShape =
  | { kind: 'void' }
  | { kind: 'scalar'; type: string }
  | { kind: 'table'; columns: Array<[string, string]> };

/** Splits on commas outside parentheses. */
export function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const c of s) {
    if (c === '(') depth++;
    if (c === ')') depth--;
    if (c === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

export function returnShape(p: Pick<GeneratedProcedure, 'returns'>): ReturnShape {
  const r = p.returns.trim();
  const table = /^table\s*\(([\s\S]*)\)$/i.exec(r);
  if (table) {
    const columns = splitTopLevel(table[1] ?? '').map((col): [string, string] => {
      const m = /^("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_]*)\s+([\s\S]+)$/.exec(col);
      if (!m) throw new Error(`cannot parse TABLE column "${col}" in returns of ${JSON.stringify(p.returns)}`);
      const name = (m[1] as string).startsWith('"') ? (m[1] as string).slice(1, -1).replace(/""/g, '"') : (m[1] as string).toLowerCase();
      return [name, (m[2] as string).trim()];
    });
    return { kind: 'table', columns };
  }
  if (/^void$/i.test(r)) return { kind: 'void' };
  return { kind: 'scalar', type: r.replace(/^setof\s+/i, '') };
}

export function isSetReturning(p: Pick<GeneratedProcedure, 'returns' | 'setof'>): boolean {
  return p.setof || /^(table\s*\(|setof\s)/i.test(p.returns.trim());
}
