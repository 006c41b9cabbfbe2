import { resolve } from 'node:path';
import { repoRoot } from '../../plv8/src/procedures.ts';

/** The checkout's root (the compiled CLI knows it from its build). */
export { repoRoot };
export const migrationsDir = resolve(repoRoot, 'migrations');
