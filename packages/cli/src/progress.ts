/** A one-line progress bar on stderr when it is a terminal; silent otherwise. */
export function progressBar(label: string): { update(done: number, total: number, extra: string): void; end(): void } {
  const tty = process.stderr.isTTY === true;
  let last = 0;
  return {
    update(done, total, extra) {
      if (!tty) return;
      const now = Date.now();
      if (done < total && now - last < 100) return;
      last = now;
      const width = 30;
      const filled = total === 0 ? width : Math.round((done / total) * width);
      process.stderr.write(`\r${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} ${extra}\x1b[K`);
    },
    end() {
      if (tty) process.stderr.write('\n');
    },
  };
}
