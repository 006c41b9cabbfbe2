import { mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DomainError } from '../domain-error.ts';

/**
 * Whole file or nothing: written beside the target, then renamed over it; the temporary file
 * is removed when that fails. `makeDirs` creates missing parent directories (reports);
 * otherwise a missing directory is a DomainError `write_failed` about the path.
 */
export function writeAtomically(path: string, text: string, opts: { makeDirs?: boolean } = {}): void {
  if (opts.makeDirs) mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    const code = (e as NodeJS.ErrnoException).code;
    throw new DomainError('write_failed', code === 'ENOENT' ? 'no such directory' : (e as Error).message, path);
  }
}

/** Where an output file goes, resolved; a directory is refused (DomainError out_is_directory) before anything is read or written. */
export function outputPath(raw: string): string {
  const path = resolve(raw);
  let isDirectory = false;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch {
    // not there yet: it will be written
  }
  if (isDirectory) throw new DomainError('out_is_directory', 'is a directory; give a file name', JSON.stringify(raw), ' ');
  return path;
}
