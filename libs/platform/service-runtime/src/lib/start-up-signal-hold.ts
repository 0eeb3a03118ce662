/**
 * Holds SIGTERM/SIGINT while the Nest app initialises; the caller shuts down once it is up.
 *
 * Why: with the hooks enabled before `app.listen()`, a signal during start-up (a rolling deploy
 * that gives up on a pod, a container check that stops a service as soon as /healthz answers)
 * ran `onModuleDestroy` concurrently with `onModuleInit`/`onApplicationBootstrap`, so a component
 * could be stopped half-started and then started after its stop. Holding the signal makes the
 * order always init → drain. The forced-exit deadline (installShutdownDeadline) still counts from
 * the first signal, so a start-up that hangs cannot hold a signal forever. The held signal is not
 * re-raised: the deadline would count it as a second signal and force the exit.
 */
import type { SignalSource } from '@seqcast/observability';

export interface StartUpSignalHold {
  /** Stops holding; returns the signal that arrived meanwhile, for the caller to shut down on. */
  release(): NodeJS.Signals | undefined;
}

export interface StartUpSignalHoldOptions {
  logger: { warn(message: string, context?: string): void };
  signals?: NodeJS.Signals[];
  /** Defaults to `process`. */
  source?: SignalSource;
}

export function holdSignalsDuringStartUp(options: StartUpSignalHoldOptions): StartUpSignalHold {
  const source = options.source ?? process;
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  let held: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (held) return;
    held = signal;
    options.logger.warn(`${signal} during start-up: shutting down once start-up has finished`, 'Bootstrap');
  };
  // A listener also keeps node's default action (exit at once, no drain) from ending the process.
  signals.forEach((signal) => source.on(signal, onSignal));
  return {
    release() {
      signals.forEach((signal) => source.removeListener(signal, onSignal));
      return held;
    },
  };
}
