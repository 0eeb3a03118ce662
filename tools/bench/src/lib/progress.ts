import cliProgress from 'cli-progress';

export interface Bar {
  update(value: number, total?: number): void;
  stop(): void;
}

/** A progress bar on a terminal; nothing when piped (CI logs and docs get just the tables). */
export function progressBar(name: string, total: number): Bar {
  if (!process.stdout.isTTY) return { update: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    { format: ` ${name.padEnd(28)} |{bar}| {value}/{total}`, hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_grey,
  );
  bar.start(total, 0);
  return {
    update: (value, newTotal) => {
      if (newTotal !== undefined) bar.setTotal(newTotal);
      bar.update(value);
    },
    stop: () => bar.stop(),
  };
}
