// Preloaded into a CLI child by the bench (`node --import <this> fifo.mjs ...`): on exit it
// reports the process's peak RSS on stderr, so the bench reads the runner's own memory.
import { writeSync } from 'node:fs';

process.on('exit', () => {
  writeSync(2, `\nFIFO_BENCH_MAXRSS_KB ${process.resourceUsage().maxRSS}\n`);
});
