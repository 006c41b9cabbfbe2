/**
 * Validators of the report's mail flags (loaded by cli/spec.ts on every start: no imports of
 * weight). An address is `local@domain` or `Display Name <local@domain>`; nothing may carry a
 * line break (that would inject headers).
 */
import { CliError } from '../errors.ts';

const ADDR = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*$/;

export interface MailAddress {
  /** The display name, or '' */
  name: string;
  /** local@domain */
  address: string;
}

export function parseMailAddress(raw: string): MailAddress | null {
  const s = raw.trim();
  const named = /^(.*?)\s*<([^<>]*)>$/.exec(s);
  const name = named ? named[1]!.replace(/^"(.*)"$/, '$1').trim() : '';
  const address = named ? named[2]!.trim() : s;
  if (!ADDR.test(address) || address.length > 254) return null;
  if (/[\u0000-\u001f\u007f"\\]/.test(name) || name.length > 200) return null;
  return { name, address };
}

export function mailAddress(name: string, raw: string): MailAddress {
  const a = parseMailAddress(raw);
  if (!a) throw new CliError(`${name} ${JSON.stringify(raw)}: not a mail address such as ops@example.com or "Ops <ops@example.com>"`);
  return a;
}

/** One flag value: one address or a comma-separated list. */
export function mailAddresses(name: string, raw: string): MailAddress[] {
  const parts = raw.split(',').map((p) => p.trim()).filter((p) => p !== '');
  if (parts.length === 0) throw new CliError(`${name} ${JSON.stringify(raw)}: not a mail address such as ops@example.com`);
  return parts.map((p) => mailAddress(name, p));
}

export function mailSubject(name: string, raw: string): string {
  if (/[\r\n]/.test(raw)) throw new CliError(`${name} must be one line (no line break)`);
  if (raw.trim() === '' || raw.length > 250) throw new CliError(`${name} must be non-blank text of at most 250 characters`);
  return raw.trim();
}
