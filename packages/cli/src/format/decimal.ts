/**
 * The one rounding of exact decimal strings (PostgreSQL numeric text) for display. Works on the
 * digits with BigInt: money never goes through a binary float.
 */

const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/;

/**
 * `text` rounded half away from zero to `places` decimals, e.g. ("-1.005", 2) → "-1.01";
 * null/undefined and text that is not a plain decimal are returned as they are.
 */
export function roundDecimal<T extends string | null | undefined>(text: T, places = 2): T | string {
  if (text === null || text === undefined) return text;
  const m = DECIMAL.exec(text.trim());
  if (!m) return text;
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
