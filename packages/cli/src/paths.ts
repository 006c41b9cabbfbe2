import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (packages/cli/src → ../../..). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const migrationsDir = resolve(repoRoot, 'migrations');
