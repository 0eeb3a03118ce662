/** The slice of `process` the deadline needs, so it can be tested without signalling the test runner. */
export interface SignalSource {
  on(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  removeListener(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
}

export interface ShutdownDeadlineOptions {
  /** From the first signal until the process is made to exit, whatever the graceful path is doing. */
  timeoutMs: number;
  /** Where the forced-exit line goes (the service's JSON logger). */
  logger: { error(message: string, context?: string): void; warn(message: string, context?: string): void };
  signals?: NodeJS.Signals[];
  /** Defaults to `process`. */
  source?: SignalSource;
  /** Defaults to `process.exit`. */
  exit?: (code: number) => void;
}

/** Exit code of a forced exit, so a supervisor can tell it from a clean drain (0). */
export const FORCED_EXIT_CODE = 1;

/**
 * The bound on a graceful shutdown. Nest's shutdown hooks drain on the first SIGTERM and ignore
 * further signals; this arms a timer on that first signal and exits with FORCED_EXIT_CODE when it
 * fires, or at once on a second signal (an operator pressing Ctrl-C twice, a supervisor that ran
 * out of patience). Exiting mid-drain is safe by construction: what a service acknowledged is in
 * Kafka or committed in PostgreSQL, and an interrupted database transaction rolls back.
 * Returns a function that removes the listeners (for tests).
 */
export function installShutdownDeadline(options: ShutdownDeadlineOptions): () => void {
  const source = options.source ?? process;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  let timer: NodeJS.Timeout | undefined;
  let received = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    received++;
    if (received === 1) {
      options.logger.warn(`${signal}: shutting down gracefully (forced exit in ${options.timeoutMs} ms)`, 'Shutdown');
      timer = setTimeout(() => {
        options.logger.error(`graceful shutdown did not finish within ${options.timeoutMs} ms; forcing exit`, 'Shutdown');
        exit(FORCED_EXIT_CODE);
      }, options.timeoutMs);
      // The timer must not be what keeps a finished process alive.
      timer.unref();
      return;
    }
    clearTimeout(timer);
    options.logger.error(`second ${signal} during graceful shutdown; forcing exit`, 'Shutdown');
    exit(FORCED_EXIT_CODE);
  };
  signals.forEach((signal) => source.on(signal, onSignal));
  return () => {
    clearTimeout(timer);
    signals.forEach((signal) => source.removeListener(signal, onSignal));
  };
}
