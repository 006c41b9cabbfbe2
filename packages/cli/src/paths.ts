import { resolve } from 'node:path';
import { repoRoot } from '@fifo-ledger/plv8/procedures';

/** The checkout's root (the compiled CLI knows it from its build). */
export { repoRoot };
export const migrationsDir = resolve(repoRoot, 'migrations');
