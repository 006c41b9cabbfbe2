/**
 * The report as one MIME message (RFC 5322 / 2045-2047) that `sendmail -t` or any MTA
 * delivers: multipart/alternative with the terminal report as text/plain (quoted-printable)
 * and the HTML report as text/html (base64), byte for byte what `--format html` writes for the
 * same data. No inline images (the charts are inline SVG in the HTML). CRLF line ends.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { renderHtml } from './html.ts';
import type { MailAddress } from './mail-address.ts';
import type { ReportData } from './query.ts';
import { renderText } from './text.ts';

export interface MailHeaders {
  to: readonly MailAddress[];
  from?: MailAddress;
  subject?: string;
  /** Default: now. */
  date?: Date;
}

const CRLF = '\r\n';
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** RFC 5322 date-time in UTC: "Tue, 01 Dec 2026 17:30:00 +0000". */
export function rfc5322Date(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]}, ${p(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ` +
    `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

/** A header value: as it is when printable ASCII, else RFC 2047 encoded words (UTF-8, base64). */
function headerText(s: string): string {
  if (/^[\x20-\x7e]*$/.test(s)) return s;
  // encoded words of at most 75 characters, split between whole characters
  const words: string[] = [];
  let chunk = '';
  for (const ch of s) {
    if (Buffer.byteLength(chunk + ch) > 45) {
      words.push(chunk);
      chunk = '';
    }
    chunk += ch;
  }
  if (chunk) words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w).toString('base64')}?=`).join(`${CRLF} `);
}

function addressText(a: MailAddress): string {
  if (!a.name) return a.address;
  const name = /^[A-Za-z0-9 !#$%&'*+\-/=?^_`{|}~.]*$/.test(a.name) ? `"${a.name}"` : headerText(a.name);
  return `${name} <${a.address}>`;
}

/** Base64 in lines of 76 characters. */
function base64Lines(s: string): string {
  return (Buffer.from(s, 'utf8').toString('base64').match(/.{1,76}/g) ?? []).join(CRLF);
}

/** Quoted-printable (RFC 2045 §6.7) of UTF-8 text whose lines end in LF or CRLF. */
export function quotedPrintable(s: string): string {
  return s.split(/\r?\n/).map((line) => {
    const bytes = Buffer.from(line, 'utf8');
    let out = '';
    let col = 0;
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]!;
      const last = i === bytes.length - 1;
      // a line starting "From " or "." is safe from mbox and SMTP mangling with that byte encoded
      const guarded = i === 0 && (b === 46 || (b === 70 && line.startsWith('From ')));
      const literal = !guarded && ((b >= 33 && b <= 126 && b !== 61) || ((b === 32 || b === 9) && !last));
      const enc = literal ? String.fromCharCode(b) : `=${b.toString(16).toUpperCase().padStart(2, '0')}`;
      if (col + enc.length > 75) {
        out += `=${CRLF}`;
        col = 0;
      }
      out += enc;
      col += enc.length;
    }
    return out;
  }).join(CRLF);
}

function defaultFrom(): MailAddress {
  const host = hostname();
  const domain = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*$/.test(host) ? host : 'localhost';
  return { name: 'fifo-ledger', address: `fifo-ledger@${domain}` };
}

export function defaultSubject(d: ReportData): string {
  return `FIFO daily report ${d.generated_at.slice(0, 10)} (version ${d.version}, ${d.method})`;
}

/** The message for `data`; its HTML part is renderHtml(data), its text part renderText(data). */
export function renderEml(data: ReportData, h: MailHeaders, html = renderHtml(data)): string {
  const from = h.from ?? defaultFrom();
  const date = h.date ?? new Date();
  const boundary = `=_fifo_${randomBytes(12).toString('hex')}`;
  const id = `<${date.getTime().toString(36)}.${randomBytes(8).toString('hex')}@${from.address.split('@')[1]}>`;
  const headers = [
    `From: ${addressText(from)}`,
    `To: ${h.to.map(addressText).join(`,${CRLF} `)}`,
    `Subject: ${headerText(h.subject ?? defaultSubject(data))}`,
    `Date: ${rfc5322Date(date)}`,
    `Message-ID: ${id}`,
    'MIME-Version: 1.0',
    `Content-Type: multipart/alternative; boundary="${boundary}"`,
    'X-Mailer: fifo-ledger report',
  ];
  const text = renderText(data);
  return [
    ...headers,
    '',
    'This is a multipart message in MIME format: the report as plain text and as HTML.',
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    quotedPrintable(text),
    `--${boundary}`,
    'Content-Type: text/html; charset=utf-8',
    'Content-Transfer-Encoding: base64',
    '',
    base64Lines(html),
    `--${boundary}--`,
    '',
  ].join(CRLF);
}
