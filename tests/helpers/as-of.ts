/**
 * Sessions that judge long_held_lot items as of a given time (fifo.long_held_as_of, read by
 * fifo_long_held_as_of(), migration 019) instead of now(). The setting rides in the URL's own
 * `options`, beside the search_path the test URLs set there: a URL's options replace
 * PGOPTIONS, so PGOPTIONS alone would be ignored by a CLI child given a test URL.
 */
export function urlAsOf(url: string, at: string): string {
  if (/\s/.test(at)) throw new Error(`urlAsOf: the time must have no spaces (ISO 8601, e.g. 2025-01-11T12:00Z), got ${JSON.stringify(at)}`);
  const u = new URL(url);
  const options = u.searchParams.get('options');
  u.searchParams.set('options', `${options ? `${options} ` : ''}-c fifo.long_held_as_of=${at}`);
  return u.toString();
}
