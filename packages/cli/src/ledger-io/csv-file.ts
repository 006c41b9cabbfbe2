import { readFileSync } from 'node:fs';
import { DomainError } from '../domain-error.ts';
import { CsvEncodingError, CsvIndex, CsvSyntaxError, decodeCsvBytes, parseCsv, type CsvTable } from './csv.ts';

function readBytes(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DomainError('unreadable_file', code === 'ENOENT' ? 'no such file' : (e as Error).message, file);
  }
}

function asCsv<T>(file: string, parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    if (e instanceof CsvSyntaxError || e instanceof CsvEncodingError) throw new DomainError('bad_file', `${file} ${e.message}; nothing imported`);
    throw e;
  }
}

/** The file as CSV; an unreadable or malformed file is a DomainError naming it. */
export function readCsvFile(file: string): CsvTable {
  const bytes = readBytes(file);
  return asCsv(file, () => parseCsv(decodeCsvBytes(bytes)));
}

/**
 * The file as a CsvIndex (checked whole, cells decoded on demand); errors as readCsvFile, but a
 * record with the wrong field count is kept and named by problem(i), to be listed with the rest.
 */
export function openCsvFile(file: string): CsvIndex {
  const bytes = readBytes(file);
  return asCsv(file, () => CsvIndex.of(bytes, { keepRagged: true }));
}
