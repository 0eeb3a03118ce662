/**
 * Everything a run starts registers how to undo it here; the registry runs on normal exit, on an
 * error and on Ctrl-C / SIGTERM, so no broker, database or service outlives the tool.
 */
export class Cleanup {
  private readonly tasks: { what: string; run: () => Promise<void> | void }[] = [];
  private running: Promise<void> | undefined;

  add(what: string, run: () => Promise<void> | void): void {
    this.tasks.push({ what, run });
  }

  /** Newest first, each on its own: one failing undo does not keep the others from running. */
  run(): Promise<void> {
    this.running ??= (async () => {
      while (this.tasks.length > 0) {
        const task = this.tasks.pop();
        if (!task) break;
        try {
          await task.run();
        } catch (error) {
          console.error(`chaos: cleanup of ${task.what} failed: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    })();
    return this.running;
  }

  /** Ctrl-C or SIGTERM: clean up, then exit with the conventional 128 + signal number. */
  installSignalHandlers(): void {
    for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
      process.once(signal, () => {
        console.error(`chaos: ${signal}, stopping everything this run started`);
        void this.run().finally(() => process.exit(code));
      });
    }
  }
}

export function isAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Sends a signal to one pid this run started; never by name. */
export function signal(pid: number | undefined, sig: NodeJS.Signals): void {
  if (!pid) throw new Error(`no pid to send ${sig} to`);
  process.kill(pid, sig);
}
