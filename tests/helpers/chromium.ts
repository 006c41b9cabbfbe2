/** Headless Chromium for the report tests: screenshots and the rendered DOM of a file. */
import { spawnSync } from 'node:child_process';

/** Debian's chromium (CI installs it with ensure_chromium in scripts/test.sh), or $CHROMIUM. */
export function findChromium(): string {
  for (const c of [process.env.CHROMIUM, 'chromium', 'chromium-browser']) {
    if (!c) continue;
    const r = spawnSync(c, ['--version'], { encoding: 'utf8' });
    if (r.status === 0) return c;
  }
  throw new Error('headless Chromium not found: install it (Debian: `apt-get install -y chromium`; scripts/test.sh does this via ensure_chromium) or set CHROMIUM');
}

/** Runs headless Chromium with `args` in its own profile directory; its stdout (e.g. --dump-dom). */
export function chromium(bin: string, userDir: string, args: string[]): string {
  const r = spawnSync(bin, [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', `--user-data-dir=${userDir}`, ...args,
  ], { encoding: 'utf8', timeout: 90_000, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`chromium failed (${r.status ?? r.signal}): ${r.stderr}`);
  return r.stdout;
}
