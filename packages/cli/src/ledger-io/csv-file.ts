import { readFileSync } from 'node:fs';
import { DomainError } from '../domain-error.ts';
import { CsvEncodingError, CsvSyntaxError, decodeCsvBytes, parseCsv, type CsvTable } from './csv.ts';

/** The file as CSV; an unreadable or malformed file is a DomainError naming it. */
export function readCsvFile(file: string): CsvTable {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DomainError('unreadable_file', code === 'ENOENT' ? 'no such file' : (e as Error).message, file);
  }
  try {
    return parseCsv(decodeCsvBytes(bytes));
  } catch (e) {
    if (e instanceof CsvSyntaxError || e instanceof CsvEncodingError) throw new DomainError('bad_file', `${file} ${e.message}; nothing imported`);
    throw e;
  }
}
