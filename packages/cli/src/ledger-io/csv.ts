/**
 * CSV in (RFC 4180: quoted fields, "" escapes, CRLF or LF, a leading BOM). Every
 * record keeps the file line it starts on, so errors can name it.
 */
import { isUtf8 } from 'node:buffer';

export interface CsvRecord {
  /** 1-based line of the file where the record starts. */
  line: number;
  cells: string[];
}

export interface CsvTable {
  header: string[];
  records: CsvRecord[];
}

export class CsvSyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'CsvSyntaxError';
  }
}

/** Offset of the first byte that is not well-formed UTF-8 (overlongs, surrogates, > U+10FFFF included), or -1. */
export function invalidUtf8Offset(b: Uint8Array): number {
  const n = b.length;
  let i = 0;
  while (i < n) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80, hi = 0xbf; // the allowed range of the second byte
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      if (c === 0xe0) lo = 0xa0;
      if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      if (c === 0xf0) lo = 0x90;
      if (c === 0xf4) hi = 0x8f;
    } else return i;
    for (let k = 1; k <= need; k++) {
      const x = b[i + k];
      if (x === undefined) return i;
      if (k === 1 ? x < lo || x > hi : x < 0x80 || x > 0xbf) return i;
    }
    i += need + 1;
  }
  return -1;
}

/** A file that is not UTF-8 text: says what it is instead of failing later on field counts. */
export class CsvEncodingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CsvEncodingError';
  }
}

function lineAt(b: Uint8Array, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) if (b[i] === 0x0a) line++;
  return line;
}

/**
 * The bytes of a CSV file as text: UTF-8 (a leading UTF-8 BOM is fine). UTF-16/32 (by BOM, or
 * by NULs between ASCII bytes), binary files (NUL bytes) and malformed UTF-8 are refused,
 * the last naming its line: nothing is replaced by U+FFFD.
 */
export function decodeCsvBytes(b: Uint8Array): string {
  checkCsvBytes(b);
  return new TextDecoder('utf-8', { fatal: true }).decode(b);
}

/** decodeCsvBytes's checks without decoding: throws CsvEncodingError. */
export function checkCsvBytes(b: Uint8Array): void {
  const at = (i: number) => b[i];
  if ((at(0) === 0xff && at(1) === 0xfe && at(2) === 0 && at(3) === 0) || (at(0) === 0 && at(1) === 0 && at(2) === 0xfe && at(3) === 0xff)) {
    throw new CsvEncodingError('is UTF-32 text (it starts with a UTF-32 byte-order mark), not UTF-8: save it as UTF-8 CSV');
  }
  if ((at(0) === 0xff && at(1) === 0xfe) || (at(0) === 0xfe && at(1) === 0xff)) {
    throw new CsvEncodingError(`is UTF-16 text (it starts with the UTF-16 ${at(0) === 0xff ? 'little' : 'big'}-endian byte-order mark), not UTF-8: save it as UTF-8 CSV`);
  }
  const nul = b.indexOf(0);
  if (nul >= 0) {
    // UTF-16 without a BOM: ASCII text with a NUL after (LE) or before (BE) every character.
    const sample = b.subarray(0, Math.min(b.length, 4096));
    let evenNul = 0, oddNul = 0;
    for (let i = 0; i < sample.length; i++) if (sample[i] === 0) (i % 2 === 0 ? evenNul++ : oddNul++);
    const half = Math.floor(sample.length / 2);
    if (half > 0 && (oddNul >= half * 0.9 || evenNul >= half * 0.9) && Math.min(oddNul, evenNul) <= half * 0.1) {
      throw new CsvEncodingError(`looks like UTF-16 text without a byte-order mark (a NUL byte between the characters), not UTF-8: save it as UTF-8 CSV`);
    }
    throw new CsvEncodingError(`is a binary file, not CSV text (a NUL byte at line ${lineAt(b, nul)}, byte offset ${nul})`);
  }
  // the native check first (a million-line file: milliseconds, where the loop below takes ~0.6 s before the import can start); the loop only to name the line
  const bad = isUtf8(b) ? -1 : invalidUtf8Offset(b);
  if (bad >= 0) {
    throw new CsvEncodingError(`line ${lineAt(b, bad)}: not valid UTF-8 (byte 0x${b[bad]!.toString(16).toUpperCase().padStart(2, '0')} at byte offset ${bad}); save the file as UTF-8`);
  }
}

/** Parses CSV text into records; blank lines are skipped. Throws CsvSyntaxError on a broken quote. */
export function parseCsvRecords(text: string): CsvRecord[] {
  const s = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const out: CsvRecord[] = [];
  let line = 1;
  let i = 0;
  const n = s.length;
  while (i < n) {
    const start = line;
    const cells: string[] = [];
    let cell = '';
    let quotedCell = false;
    for (;;) {
      if (i >= n) {
        cells.push(cell);
        break;
      }
      const c = s[i]!;
      if (c === '"' && cell === '' && !quotedCell) {
        // a quoted field
        quotedCell = true;
        i++;
        for (;;) {
          if (i >= n) throw new CsvSyntaxError(start, 'a quoted field is not closed');
          const q = s[i]!;
          if (q === '"') {
            if (s[i + 1] === '"') {
              cell += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (q === '\n') line++;
          cell += q;
          i++;
        }
        const next = s[i];
        if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r') {
          throw new CsvSyntaxError(line, `unexpected ${JSON.stringify(next)} after a closing quote`);
        }
        continue;
      }
      if (c === ',') {
        cells.push(cell);
        cell = '';
        quotedCell = false;
        i++;
        continue;
      }
      if (c === '\r' || c === '\n') {
        cells.push(cell);
        i += c === '\r' && s[i + 1] === '\n' ? 2 : 1;
        line++;
        break;
      }
      if (c === '"') throw new CsvSyntaxError(line, 'a quote inside an unquoted field (quote the whole field and double the quote)');
      cell += c;
      i++;
    }
    if (cells.length === 1 && !quotedCell && cells[0]!.trim() === '') continue;
    out.push({ line: start, cells });
  }
  return out;
}

/** Header plus records; a record with more or fewer cells than the header is an error. */
export function parseCsv(text: string): CsvTable {
  const records = parseCsvRecords(text);
  const first = records.shift();
  if (!first) throw new CsvSyntaxError(1, 'the file is empty (a header line is expected)');
  const header = first.cells.map((h) => h.trim());
  for (const r of records) {
    if (r.cells.length !== header.length) {
      throw new CsvSyntaxError(r.line, `${r.cells.length} field(s), the header has ${header.length}`);
    }
  }
  return { header, records };
}

/** A header name made comparable: lower case, spaces/dashes/dots as underscores. */
export function normalizeHeader(h: string): string {
  return h.trim().toLowerCase().replace(/[\s\-.]+/g, '_');
}

/**
 * A CSV file kept as its bytes, with where each record starts: the same records, lines and
 * errors as parseCsv, but cells are decoded only when a record is read (a million-row file
 * would otherwise be ~14 million strings at once).
 */
export class CsvIndex {
  private constructor(
    private readonly bytes: Buffer,
    readonly header: string[],
    /** Records after the header. */
    readonly count: number,
    private readonly starts: Int32Array,
    private readonly lines: Int32Array,
    /** Record → its field count, for records whose count is not the header's (keepRagged). */
    private readonly ragged: ReadonlyMap<number, number>,
  ) {}

  /**
   * Checks encoding and syntax of the whole file (throws CsvEncodingError / CsvSyntaxError like
   * parseCsv). With `keepRagged`, a record with more or fewer fields than the header is kept
   * and named by problem(i) instead, so a caller can list it with every other problem.
   */
  static of(bytes: Buffer, opts: { keepRagged?: boolean } = {}): CsvIndex {
    checkCsvBytes(bytes);
    const n = bytes.length;
    let i = n >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
    let starts = new Int32Array(1024);
    let lines = new Int32Array(1024);
    let count = 0;
    let line = 1;
    let width = -1;
    let header: string[] | undefined;
    let countError: CsvSyntaxError | undefined;
    const ragged = new Map<number, number>();
    /** The first quote at or after the current record (n: none left); found natively, once per quote. */
    let nextQuote = -1;
    while (i < n) {
      const begin = i;
      const start = line;
      let fields = 1;
      let quotedCell = false;
      let cellEmpty = true;
      if (nextQuote < begin) {
        nextQuote = bytes.indexOf(0x22, begin);
        if (nextQuote < 0) nextQuote = n;
      }
      const newline = bytes.indexOf(0x0a, begin);
      const lineEnd = newline < 0 ? n : newline;
      // A record without quotes (nearly every one): its fields counted in one tight loop, its end
      // found natively; the general loop below reads the same records, byte by byte.
      const quoteFree = nextQuote >= lineEnd;
      if (quoteFree) {
        let end = lineEnd;
        for (let j = begin; j < lineEnd; j++) {
          const c = bytes[j]!;
          if (c === 0x2c) fields++;
          else if (c === 0x0d) {
            end = j;
            break;
          }
        }
        cellEmpty = end === begin;
        if (end < lineEnd) i = bytes[end + 1] === 0x0a ? end + 2 : end + 1; // CR, or CR LF
        else i = newline < 0 ? n : newline + 1;
        if (i > end) line++;
      }
      while (!quoteFree) {
        if (i >= n) break;
        const c = bytes[i]!;
        if (c === 0x22 && cellEmpty && !quotedCell) {
          quotedCell = true;
          i++;
          for (;;) {
            if (i >= n) throw new CsvSyntaxError(start, 'a quoted field is not closed');
            const q = bytes[i]!;
            if (q === 0x22) {
              if (bytes[i + 1] === 0x22) {
                cellEmpty = false;
                i += 2;
                continue;
              }
              i++;
              break;
            }
            if (q === 0x0a) line++;
            cellEmpty = false;
            i++;
          }
          const next = bytes[i];
          if (next !== undefined && next !== 0x2c && next !== 0x0a && next !== 0x0d) {
            const ch = bytes.toString('utf8', i, Math.min(n, i + 4))[0]!;
            throw new CsvSyntaxError(line, `unexpected ${JSON.stringify(ch)} after a closing quote`);
          }
          continue;
        }
        if (c === 0x2c) {
          fields++;
          cellEmpty = true;
          quotedCell = false;
          i++;
          continue;
        }
        if (c === 0x0d || c === 0x0a) {
          i += c === 0x0d && bytes[i + 1] === 0x0a ? 2 : 1;
          line++;
          break;
        }
        if (c === 0x22) throw new CsvSyntaxError(line, 'a quote inside an unquoted field (quote the whole field and double the quote)');
        cellEmpty = false;
        i++;
      }
      if (fields === 1 && !quotedCell && (cellEmpty || decodeCells(bytes, begin)[0]!.trim() === '')) continue;
      if (header === undefined) {
        header = decodeCells(bytes, begin).map((h) => h.trim());
        width = fields;
        continue;
      }
      if (fields !== width) {
        if (opts.keepRagged) ragged.set(count, fields);
        else if (!countError) countError = new CsvSyntaxError(start, `${fields} field(s), the header has ${width}`);
      }
      if (count === starts.length) {
        const s2 = new Int32Array(count * 2), l2 = new Int32Array(count * 2);
        s2.set(starts);
        l2.set(lines);
        starts = s2;
        lines = l2;
      }
      starts[count] = begin;
      lines[count] = start;
      count++;
    }
    if (!header) throw new CsvSyntaxError(1, 'the file is empty (a header line is expected)');
    if (countError) throw countError;
    return new CsvIndex(bytes, header, count, starts, lines, ragged);
  }

  /** What is wrong with record `i` as a record (its field count), if anything. */
  problem(i: number): string | undefined {
    const fields = this.ragged.get(i);
    return fields === undefined ? undefined : `line ${this.line(i)}: ${fields} field(s), the header has ${this.header.length}`;
  }

  /** 1-based file line where record `i` starts. */
  line(i: number): number {
    return this.lines[i]!;
  }

  /** The cells of record `i` (0-based, after the header). */
  cells(i: number): string[] {
    return decodeCells(this.bytes, this.starts[i]!);
  }

  /** As a CsvTable (every record decoded). */
  table(): CsvTable {
    const records: CsvRecord[] = [];
    for (let i = 0; i < this.count; i++) records.push({ line: this.line(i), cells: this.cells(i) });
    return { header: this.header, records };
  }
}

/** Buffer's own decoder, without toString's argument handling (a large share of the time on a million rows). */
const utf8 = (b: Buffer, from: number, to: number): string => (b as Buffer & { utf8Slice(start: number, end: number): string }).utf8Slice(from, to);

/** The cells of the (well-formed) record starting at byte `i`. */
function decodeCells(b: Buffer, i: number): string[] {
  const n = b.length;
  const cells: string[] = [];
  for (;;) {
    if (b[i] === 0x22) {
      const from = i + 1;
      let escaped = false;
      i = from;
      for (;;) {
        if (b[i] === 0x22) {
          if (b[i + 1] === 0x22) {
            escaped = true;
            i += 2;
            continue;
          }
          break;
        }
        i++;
      }
      const v = utf8(b, from, i);
      cells.push(escaped ? v.replaceAll('""', '"') : v);
      i++;
    } else {
      const from = i;
      while (i < n) {
        const c = b[i]!;
        if (c === 0x2c || c === 0x0a || c === 0x0d) break;
        i++;
      }
      cells.push(utf8(b, from, i));
    }
    if (i >= n || b[i] !== 0x2c) return cells;
    i++;
  }
}
