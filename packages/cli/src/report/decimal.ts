/**
 * Display of exact decimal strings (PostgreSQL numeric text). Rounding works on the digits
 * with BigInt — money never goes through a binary float.
 */

const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/;

/** `s` rounded half away from zero to `places` decimals, e.g. ("-1.005", 2) → "-1.01". */
export function roundDecimal(s: string, places: number): string {
  const m = DECIMAL.exec(s.trim());
  if (!m) throw new Error(`not a decimal number: ${JSON.stringify(s)}`);
  const [, sign, int, frac = ''] = m;
  const scale = frac.length;
  let units = BigInt(int! + frac);
  if (scale > places) {
    const div = 10n ** BigInt(scale - places);
    const q = units / div;
    units = (units % div) * 2n >= div ? q + 1n : q;
  } else {
    units *= 10n ** BigInt(places - scale);
  }
  const digits = units.toString().padStart(places + 1, '0');
  const head = digits.slice(0, digits.length - places);
  const tail = digits.slice(digits.length - places);
  const neg = sign === '-' && units !== 0n;
  return `${neg ? '-' : ''}${head}${places > 0 ? `.${tail}` : ''}`;
}

/** Thousands separators on the integer part: "1234567.5" → "1,234,567.5". */
export function groupThousands(s: string): string {
  const m = /^(-?)(\d+)(\.\d+)?$/.exec(s);
  if (!m) return s;
  return `${m[1]}${m[2]!.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}${m[3] ?? ''}`;
}

/** Money for people: rounded to cents, grouped; null/undefined → "". */
export function money(s: string | null | undefined): string {
  if (s === null || s === undefined) return '';
  return groupThousands(roundDecimal(s, 2));
}

/** -1, 0 or 1 by the sign of a decimal string. */
export function signOf(s: string | null | undefined): -1 | 0 | 1 {
  if (s === null || s === undefined) return 0;
  const t = s.trim();
  if (/^-?0*(\.0*)?$/.test(t)) return 0;
  return t.startsWith('-') ? -1 : 1;
}
