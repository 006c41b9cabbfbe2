/**
 * The import formats: `fifo import <format>` looks its format up here. A new exchange's file is
 * one entry: how its header maps to the fill fields, whether it takes --map, its source tag.
 */
import { coinbaseColumns, mappedColumns, type ColumnMap } from './fills.ts';

export interface ImportFormat {
  /** The name in messages (`the Coinbase columns are known`). */
  label: string;
  /** trade_records.source when --source is not given. */
  defaultSource: string;
  /** Whether the column map comes from the user (--map) or is known. */
  userMap: boolean;
  /** Field → column index for a file's header; throws ValueError naming what is missing. */
  columns(header: readonly string[], mapSpecs: readonly string[]): ColumnMap;
}

export const IMPORT_FORMATS: Readonly<Record<string, ImportFormat>> = {
  coinbase: { label: 'Coinbase', defaultSource: 'coinbase-import', userMap: false, columns: (header) => coinbaseColumns(header) },
  csv: { label: 'CSV', defaultSource: 'csv-import', userMap: true, columns: (header, specs) => mappedColumns(specs, header) },
};

export function importFormat(name: string | undefined): ImportFormat | undefined {
  return name !== undefined && Object.hasOwn(IMPORT_FORMATS, name) ? IMPORT_FORMATS[name] : undefined;
}
