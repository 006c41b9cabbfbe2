/** CLI time flags and import files (issue 10): impossible or out-of-range times, ids, encodings. */
import type { CaseContext, Cases } from './context.ts';

const HEADER = 'trade_id,order_id,trade_time,price,size,commission,product_id,side';

export function cases({ cli, file }: CaseContext): Cases {
  /** A Coinbase file whose line 2 is a buy with these fields (defaults otherwise). */
  const fill = (name: string, f: { trade?: string; order?: string; time?: string }) => async () =>
    cli(['import', 'coinbase', file(name,
      `${HEADER}\n${f.trade ?? 't1'},${f.order ?? 'o1'},${f.time ?? '2025-01-01T00:00:00Z'},100,1,0,SOL-USD,BUY\n`)])();
  const good = `${HEADER}\nt1,o1,2025-01-01T00:00:00Z,100,1,0,SOL-USD,BUY\n`;
  return {
    'cli-time-impossible-date': cli(['report', '--to', '2025-02-30']),
    'cli-time-impossible-clock': cli(['review', 'resolve', '1', '--note', 'x', '--opening-balance', '--price', '1', '--time', '2025-01-01T24:61']),
    'cli-time-out-of-range': cli(['compute', '--incremental', '--since', '9999-12-31T23:00:00-05:00']),
    'cli-time-sub-millisecond': cli(['report', '--from', '2025-01-01T00:00:00.0000001Z']),
    'csv-key-separator-order': fill('colon-order.csv', { order: 'a:b', trade: 'c' }),
    'csv-key-separator-trade': fill('colon-trade.csv', { order: 'a', trade: 'b:c' }),
    'csv-id-tab': fill('id-tab.csv', { order: 'o\t1' }),
    'csv-id-newline': fill('id-newline.csv', { order: '"o\n1"' }),
    'csv-id-nbsp': fill('id-nbsp.csv', { order: 'o\u00A01' }),
    'csv-id-zero-width': fill('id-zwsp.csv', { order: 'o1\u200B' }),
    'csv-id-bidi-mark': fill('id-alm.csv', { trade: '\u061Ct1' }),
    'csv-id-201-chars': fill('id-long.csv', { order: 'x'.repeat(201) }),
    'csv-key-too-long': fill('key-long.csv', { order: 'x'.repeat(150), trade: 'y'.repeat(60) }),
    'csv-time-infinity': fill('time-inf.csv', { time: 'infinity' }),
    'csv-time-bc': fill('time-bc.csv', { time: '2025-01-01T00:00:00Z BC' }),
    'csv-time-year-10000': fill('time-10000.csv', { time: '9999-12-31T23:30:00-01:00' }),
    'csv-time-before-1970': fill('time-1969.csv', { time: '1970-01-01T00:30:00+01:00' }),
    'csv-invalid-utf8': async () => cli(['import', 'coinbase', file('latin1.csv',
      Buffer.concat([Buffer.from(`${HEADER}\nt1,o1,2025-01-01T00:00:00Z,100,1,0,SOL-USD,BUY\nt2,o`), Buffer.from([0xe9]), Buffer.from(',2025-01-02T00:00:00Z,100,1,0,SOL-USD,SELL\n')]))])(),
    'csv-utf16-bom': async () => cli(['import', 'coinbase', file('utf16.csv', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(good, 'utf16le')]))])(),
    'csv-utf16-no-bom': async () => cli(['import', 'coinbase', file('utf16-nobom.csv', Buffer.from(good, 'utf16le'))])(),
    'csv-binary': async () => cli(['import', 'coinbase', file('image.csv', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52]))])(),
  };
}
