/**
 * checkCsvBytes asks Node's native UTF-8 check first and runs its own loop only to name the bad
 * byte: both must call the same byte strings well-formed (overlongs, surrogates, code points past
 * U+10FFFF and cut sequences refused), or a file would be let through or refused by the check used.
 */
import { isUtf8 } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { checkCsvBytes, CsvEncodingError, invalidUtf8Offset } from '../src/ledger-io/csv.ts';

const cases: number[][] = [
  [0x61], [0xc2, 0x80], [0xc1, 0xbf], [0xc0, 0x80], [0xdf, 0xbf], [0xe0, 0xa0, 0x80], [0xe0, 0x9f, 0xbf],
  [0xed, 0x9f, 0xbf], [0xed, 0xa0, 0x80], [0xed, 0xbf, 0xbf], [0xee, 0x80, 0x80], [0xef, 0xbf, 0xbf],
  [0xf0, 0x90, 0x80, 0x80], [0xf0, 0x8f, 0xbf, 0xbf], [0xf4, 0x8f, 0xbf, 0xbf], [0xf4, 0x90, 0x80, 0x80],
  [0xf5, 0x80, 0x80, 0x80], [0xff], [0x80], [0xbf], [0xc2], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xe2, 0x28, 0xa1],
  [0x7f], [0xc3, 0xa9, 0x41], [0xf0, 0x9f, 0x98, 0x80, 0x80],
];

describe('checkCsvBytes: the native UTF-8 check and the loop that names the byte', () => {
  it('agree on every lead byte with every continuation, and on edge sequences', () => {
    const all = [...cases];
    for (let lead = 0x80; lead <= 0xff; lead++) {
      for (let second = 0; second <= 0xff; second += 0x0f) all.push([lead, second, 0x80, 0x80]);
    }
    for (const c of all) {
      for (const b of [Buffer.from(c), Buffer.from([0x41, ...c, 0x42])]) {
        expect([c, isUtf8(b)]).toEqual([c, invalidUtf8Offset(b) === -1]);
        if (isUtf8(b)) expect(() => checkCsvBytes(b)).not.toThrow();
        else expect(() => checkCsvBytes(b)).toThrow(CsvEncodingError);
      }
    }
  });

  it('still names the line and byte of the first bad byte', () => {
    const b = Buffer.concat([Buffer.from('a,b\nc,d\n'), Buffer.from([0x65, 0xed, 0xa0, 0x80])]);
    expect(() => checkCsvBytes(b)).toThrow(/line 3: not valid UTF-8 \(byte 0xED at byte offset 9\)/);
  });
});
