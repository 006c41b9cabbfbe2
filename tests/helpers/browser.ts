/**
 * The headless browser of the tests that render the HTML report, shared by every such test:
 * `FIFO_SKIP_BROWSER=1` skips them with that reason shown (scripts/test.sh then installs no
 * Chromium, ~350 MB); otherwise a missing browser fails the test, saying how to install it.
 */
import type { TestContext } from 'vitest';
import { findChromium } from './chromium.ts';

export { chromium } from './chromium.ts';

export const SKIP_BROWSER_REASON = 'FIFO_SKIP_BROWSER=1: headless Chromium is not used, this browser test is skipped';

/** The browser binary for this test, or the test is skipped (with the reason) under FIFO_SKIP_BROWSER=1. */
export function browserFor(ctx: TestContext): string {
  if (process.env.FIFO_SKIP_BROWSER === '1') ctx.skip(SKIP_BROWSER_REASON);
  return findChromium();
}
