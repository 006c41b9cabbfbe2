/**
 * `fifo report --format eml`: a complete MIME message that parses with a standard MIME parser
 * (postal-mime), whose HTML part is the HTML report byte for byte and whose text part is the
 * terminal report; the HTML part rendered in headless Chromium (screenshot and DOM).
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import PostalMime from 'postal-mime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCompute } from '../../packages/cli/src/compute/run-compute.ts';
import { openProcedureSession } from '../../packages/cli/src/compute/sessions.ts';
import { quotedPrintable, renderEml } from '../../packages/cli/src/report/eml.ts';
import { renderHtml } from '../../packages/cli/src/report/html.ts';
import { buildReport } from '../../packages/cli/src/report/query.ts';
import { renderText } from '../../packages/cli/src/report/text.ts';
import { browserFor, chromium } from '../helpers/browser.ts';
import { runFifo } from '../helpers/cli.ts';
import { createTestSchema, type TestSchema } from '../helpers/db.ts';

let t: TestSchema;
let dir: string;
const env = () => ({ DATABASE_URL: t.url });

beforeAll(async () => {
  t = await createTestSchema();
  dir = mkdtempSync(join(tmpdir(), 'fifo-eml-'));
  await t.query(`INSERT INTO trade_records (order_id, symbol, side, size, price, total_fees_usd, order_time, source, trigger) VALUES
    ('b1', 'SOL-USD', 'buy',  10, 100, 0, '2025-03-01 09:00Z', 'scalper', NULL),
    ('s1', 'SOL-USD', 'sell', 2,  110, 0, '2025-03-01 12:00Z', 'scalper', 'take_profit'),
    ('s2', 'SOL-USD', 'sell', 2,  95,  0, '2025-03-02 12:00Z', 'scalper', 'stop_loss'),
    ('s3', 'SOL-USD', 'sell', 2,  90,  0, '2025-03-04 12:00Z', 'grid',    'stop_loss'),
    ('s4', 'SOL-USD', 'sell', 2,  130, 0, '2025-03-06 02:00Z', 'grid',    'take_profit'),
    ('b3', 'ADA-USD', 'buy',  100, 0.5, 0.1, '2025-03-03 00:00Z', 'grid', NULL)`);
  await t.query(`INSERT INTO market_prices (symbol, price_time, price, source) VALUES ('SOL-USD', '2025-03-06 00:00Z', 120, 'test')`);
  const session = await openProcedureSession(t.client, t.url, 'auto');
  try {
    expect((await runCompute(t.client, session, { version: 1, symbols: null, force: true })).status).toBe('success');
  } finally {
    await session.close();
  }
});
afterAll(async () => {
  await t?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const parse = (raw: string) => PostalMime.parse(raw);

describe('fifo report --format eml', () => {
  it('writes a MIME message a standard parser reads: headers, CRLF, text and HTML alternatives, no images', async () => {
    const out = join(dir, 'report.eml');
    const r = await runFifo(['report', '--format', 'eml', '--to', '2025-03-10', '--out', out,
      '--mail-to', 'Ops Desk <ops@example.com>', '--mail-to', 'cfo@example.org,risk@example.net',
      '--mail-from', 'FIFO Reports <reports@example.com>', '--subject', 'Daily PnL — Zürich desk'], env());
    expect(r.code, r.stderr).toBe(0);
    const raw = readFileSync(out, 'utf8');
    // CRLF line ends only, no line over 998 characters, ASCII only (the bodies are encoded)
    expect(raw).not.toMatch(/[^\r]\n/);
    expect(raw.split('\r\n').every((l) => l.length <= 998)).toBe(true);
    expect(raw).toMatch(/^[\x00-\x7f]*$/);
    const head = raw.slice(0, raw.indexOf('\r\n\r\n'));
    for (const h of ['From', 'To', 'Subject', 'Date', 'Message-ID', 'MIME-Version', 'Content-Type']) expect(head).toMatch(new RegExp(`^${h}: `, 'm'));
    expect(head).toMatch(/^MIME-Version: 1\.0$/m);
    expect(head).toMatch(/^Content-Type: multipart\/alternative; boundary="=_fifo_[0-9a-f]+"$/m);
    expect(head).toMatch(/^Date: (Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d \+0000$/m);
    expect(head).toMatch(/^Message-ID: <[^@\s]+@example\.com>$/m);

    const mail = await parse(raw);
    expect(mail.from).toEqual({ name: 'FIFO Reports', address: 'reports@example.com' });
    expect(mail.to).toEqual([
      { name: 'Ops Desk', address: 'ops@example.com' }, { name: '', address: 'cfo@example.org' }, { name: '', address: 'risk@example.net' }]);
    expect(mail.subject).toBe('Daily PnL — Zürich desk');
    expect(Math.abs(Date.parse(mail.date!) - Date.now())).toBeLessThan(5 * 60_000);
    expect(mail.attachments).toEqual([]);
    expect(mail.html).toMatch(/^<!DOCTYPE html>/);
    expect(mail.html).not.toMatch(/<img|\bsrc=|cid:/i);
    expect(mail.text).toMatch(/^PnL report — allocation version 1 \(fifo\)/);
    expect(mail.text).toMatch(/^sharpe ratio +\d+\.\d\d +\(mean \/ sample stddev of daily realized PnL × √365, 6 day\(s\)\)$/m);
    expect(mail.text).toMatch(/^ADA-USD +USD +100 +50\.10 +unknown +unknown +unknown/m);

    // the HTML part is what --format html writes for the same range (but for the time it was generated)
    const html = await runFifo(['report', '--format', 'html', '--to', '2025-03-10', '--out', join(dir, 'report.html')], env());
    expect(html.code, html.stderr).toBe(0);
    const stamp = (s: string) => s.replace(/generated \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/, 'generated …');
    expect(stamp(mail.html!)).toBe(stamp(readFileSync(join(dir, 'report.html'), 'utf8')));
  });

  it('its parts equal the HTML and text reports of the same data exactly', async () => {
    const to = { raw: '2025-03-10', time: new Date('2025-03-10T00:00:00Z'), dateOnly: true };
    const data = await buildReport(t.client, { version: 1, from: null, to, by: 'trigger', tz: 'UTC', withSeries: true });
    const raw = renderEml(data, { to: [{ name: '', address: 'ops@example.com' }] });
    const mail = await parse(raw);
    expect(mail.html).toBe(renderHtml(data));
    expect(mail.text).toBe(`${renderText(data)}\n`); // what --format table prints
    expect(mail.from?.address).toMatch(/^fifo-ledger@/);
    expect(mail.subject).toBe(`FIFO daily report ${data.generated_at.slice(0, 10)} (version 1, fifo)`);
    // quoted-printable: lines of at most 76, '=' and trailing spaces encoded, "From " and "." lines guarded
    expect(quotedPrintable(`From here\n.\na = b \n${'x'.repeat(80)}`))
      .toBe(`=46rom here\r\n=2E\r\na =3D b=20\r\n${'x'.repeat(75)}=\r\n${'x'.repeat(5)}`);
  });

  it('renders in headless Chromium: equity curve with the drawdown shaded, breakdown bars, positions, health', async (ctx) => {
    const bin = browserFor(ctx);
    const out = join(dir, 'chromium.eml');
    const r = await runFifo(['report', '--format', 'eml', '--to', '2025-03-10', '--out', out, '--mail-to', 'ops@example.com'], env());
    expect(r.code, r.stderr).toBe(0);
    const mail = await parse(readFileSync(out, 'utf8'));
    const file = join(dir, 'from-eml.html');
    writeFileSync(file, mail.html!);
    const png = join(dir, 'eml.png');
    chromium(bin, join(dir, 'chrome-1'), [`--screenshot=${png}`, '--window-size=1200,3000', `file://${file}`]);
    const image = readFileSync(png);
    expect(image.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect([image.readUInt32BE(16), image.readUInt32BE(20)]).toEqual([1200, 3000]);
    expect(statSync(png).size).toBeGreaterThan(30_000);

    const dom = chromium(bin, join(dir, 'chrome-2'), ['--dump-dom', `file://${file}`]);
    const svg = (id: string) => new RegExp(`<svg id="${id}-USD"[\\s\\S]*?</svg>`).exec(dom)?.[0] ?? '';
    // zero start (02-28) + 6 days; the drawdown area, the peak (03-01) and trough (03-04) marked
    expect(svg('chart-equity')).toMatch(/<path class="line" d="M[\d.]+,[\d.]+( L[\d.]+,[\d.]+){6}"/);
    expect(svg('chart-equity')).toMatch(/<path class="drawdown" d="M/);
    expect(svg('chart-equity')).toMatch(/<circle class="dd-peak"[^>]*><title>peak 2025-03-01: 20\.00<\/title>/);
    expect(svg('chart-equity')).toMatch(/<circle class="dd-trough"[^>]*><title>trough 2025-03-04: -10\.00<\/title>/);
    expect(svg('chart-pnl-by-trigger')).toMatch(/<title>take_profit: 80\.00<\/title>/);
    expect(svg('chart-pnl-by-trigger')).toMatch(/<rect class="bar neg"[^>]*><title>stop_loss: -30\.00<\/title>/);
    expect(svg('chart-pnl-by-source').match(/<g class="row">/g)).toHaveLength(2);
    expect(dom).toMatch(/<td id="total-max-drawdown-USD"[^>]*data-value="30"[^>]*>.*?peak 2025-03-01, trough 2025-03-04; longest 4 day\(s\)/s);
    expect(dom).toMatch(/<td id="total-sharpe-USD"[^>]*>.*?× √365, 6 day\(s\)/s);
    expect(dom).toMatch(/<table id="open-positions" data-count="2"/);
    expect(dom).toMatch(/<tr class="position no-price" data-symbol="ADA-USD"[^>]*>.*?<td class="market-value"[^>]*data-value=""[^>]*><span class="unknown"[^>]*>unknown<\/span>/s);
    expect(dom).toMatch(/<tr class="position stale" data-symbol="SOL-USD"[^>]*>.*?stale \(120\.00 h\).*?<td class="unrealized"[^>]*data-value="40"[^>]*>40\.00<\/td>/s);
    expect(dom).toMatch(/<table id="health" data-last-run-status="success"/);
  });

  it('refuses bad mail input with exit 2 naming it, writing nothing', async () => {
    const out = join(dir, 'never.eml');
    const cases = [
      [['--format', 'eml'], /--format eml needs --mail-to ADDR/],
      [['--format', 'eml', '--mail-to', 'not an address'], /--mail-to "not an address": not a mail address/],
      [['--format', 'eml', '--mail-to', 'a@example.com', '--mail-from', 'x@'], /--mail-from "x@": not a mail address/],
      [['--format', 'eml', '--mail-to', 'a@example.com', '--subject', 'a\r\nBcc: evil@example.com'], /--subject must be one line/],
      [['--format', 'html', '--mail-to', 'a@example.com'], /--mail-to applies to --format eml only/],
      [['--tz', 'Mars/Olympus'], /--tz "Mars\/Olympus": not a time zone name/],
    ] as const;
    const results = await Promise.all(cases.map(([args]) => runFifo(['report', '--out', out, ...args], env())));
    results.forEach((r, i) => {
      const [args, message] = cases[i]!;
      expect({ args, code: r.code, stdout: r.stdout }).toEqual({ args, code: 2, stdout: '' });
      expect(r.stderr).toMatch(message);
    });
    expect(() => statSync(out)).toThrow();
  });
});
