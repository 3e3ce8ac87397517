import cliProgress from 'cli-progress';

/** A progress bar on a terminal; plain periodic lines when output is piped (logs, CI). */
export interface Progress {
  update(done: number, total: number, message?: string): void;
  stop(): void;
}

export function createProgress(label: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: `${label} [{bar}] {percentage}% | {value}/{total} {message}`, stream, hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update(done, total, message = '') {
        if (!started) {
          bar.start(total, done, { message });
          started = true;
        }
        bar.setTotal(total);
        bar.update(done, { message });
      },
      stop: () => started && bar.stop(),
    };
  }
  let lastPrinted = 0;
  return {
    update(done, total, message = '') {
      const now = Date.now();
      if (done === total || now - lastPrinted > 2000) {
        lastPrinted = now;
        stream.write(`${label}: ${done}/${total}${message ? ` ${message}` : ''}\n`);
      }
    },
    stop() {},
  };
}
