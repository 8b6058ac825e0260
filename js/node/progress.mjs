// A one-line progress bar on a TTY; silent otherwise (logs and pipes stay clean).
export function progressBar(stream) {
  const tty = !!stream.isTTY;
  let last = '';
  return {
    update(stage, done, total) {
      if (!tty) return;
      const width = 30;
      const frac = total > 0 ? Math.min(1, done / total) : 0;
      const filled = Math.round(frac * width);
      const line = `${stage.padEnd(8)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${Math.round(frac * 100)}%`;
      if (line !== last) stream.write(`\r${line}`);
      last = line;
    },
    done() {
      if (tty && last) stream.write('\r' + ' '.repeat(last.length) + '\r');
    },
  };
}
