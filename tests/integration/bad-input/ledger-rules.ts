/** Ledger rows the rules of migration 010 refuse (issue 10): unreal times, invisible ids, lower-case symbols. */
import type { CaseContext, Cases } from './context.ts';

export function cases({ insert }: CaseContext): Cases {
  const at = (time: string) => insert(`('x', 'SOL-USD', 'buy', 1, 1, 0, ${time})`);
  const id = (orderId: string) => insert(`(${orderId}, 'SOL-USD', 'buy', 1, 1, 0, now())`);
  return {
    'row-time-infinity': at(`'infinity'`),
    'row-time-minus-infinity': at(`'-infinity'`),
    'row-time-bc': at(`'2025-01-01 00:00Z BC'`),
    'row-time-year-10000': at(`'10000-01-01 00:00Z'`),
    'row-order-id-tab': id(`E'a\\tb'`),
    'row-order-id-newline': id(`E'a\\nb'`),
    'row-order-id-nbsp': id(`U&'a\\00A0b'`),
    'row-order-id-zero-width': id(`U&'ab\\200B'`),
    'row-order-id-invisible-only': id(`U&'\\00A0\\200B'`),
    'row-order-id-edge-space': id(`'a '`),
    'row-order-id-201-chars': id(`repeat('x', 201)`),
    'row-symbol-lower-case': insert(`('x', 'sol-usd', 'buy', 1, 1, 0, now())`),
  };
}
