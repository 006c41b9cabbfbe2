/**
 * CsvIndex reads a record without quotes by counting its commas up to the next line break (found
 * natively), every other record byte by byte: whichever way, the records, their lines, the field
 * counts and the errors are those of parseCsv, the reference reader.
 */
import { describe, expect, it } from 'vitest';
import { CsvIndex, parseCsv } from '../src/ledger-io/csv.ts';

function outcome<T>(parse: () => T): T | string {
  try {
    return parse();
  } catch (e) {
    return `${(e as Error).name}: ${(e as Error).message}`;
  }
}

/** The records CsvIndex reads from the bytes of `text`, or its error. */
const indexed = (text: string) => outcome(() => CsvIndex.of(Buffer.from(text)).table());
/** The records parseCsv reads from `text`, or its error. */
const reference = (text: string) => outcome(() => parseCsv(text));

/** With keepRagged, the record with the wrong field count is kept and named (its line as parseCsv names it). */
const ragged = (text: string) => {
  const x = CsvIndex.of(Buffer.from(text), { keepRagged: true });
  return Array.from({ length: x.count }, (_, i) => x.problem(i) ?? null);
};

describe('CsvIndex, the quote-free records read by the fast path', () => {
  it('reads what parseCsv reads, on line breaks of every kind and quotes after quote-free records', () => {
    const texts = [
      'a,b\n1,2\r3,4\r\n5,6\n',
      'a,b\n1,2\r',
      'a,b\n1,2\r\r\n3,4',
      'a,b\n1,2\n3,4\n5,"6"\n7,8\n',
      'a,b\n1,2\n3,4\r"5",6\n',
      'a,b\n\r\n \r\n1,2\n',
      'a,b\n , \n1,2\n',
      'a,b\n1,2,3\n4\n5,6\n',
      'a,b\n1,2\n3,4"\n',
      'a,b\n1,2\n"3\n4",5\n6,7',
      'a,b\n1,2\n\n\n',
      'a,b\n1\t,2\n',
      'a,b\n1,é\n€,😀\n',
    ];
    for (const text of texts) expect(indexed(text), JSON.stringify(text)).toEqual(reference(text));
  });

  it('keeps a record with the wrong field count and names its line, after line breaks of every kind', () => {
    expect(ragged('a,b\n1,2\r3\r\n4,5,6\n"7\n8",9\n10\n')).toEqual([
      null, 'line 3: 1 field(s), the header has 2', 'line 4: 3 field(s), the header has 2', null, 'line 7: 1 field(s), the header has 2']);
  });

  it('reads what parseCsv reads on random texts of commas, quotes, line breaks and spaces', () => {
    const alphabet = ['a', 'a', 'b', ',', ',', '"', '\n', '\n', '\r', ' ', 'é'];
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (let k = 0; k < 3000; k++) {
      const len = Math.floor(rand() * 40);
      let text = 'h,i\n';
      for (let j = 0; j < len; j++) text += alphabet[Math.floor(rand() * alphabet.length)];
      expect(indexed(text), JSON.stringify(text)).toEqual(reference(text));
    }
  });
});
