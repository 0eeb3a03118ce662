/** The client's events and their listeners: a throwing listener never breaks the client. */
import type { ConnectionState, GapInfo, StateDetail } from './client-options';
import { SeqcastError } from './seqcast-error';

export interface ClientEvents {
  state: (state: ConnectionState, detail?: StateDetail) => void;
  reset: (roomId: string) => void;
  gap: (roomId: string, info: GapInfo) => void;
  error: (error: SeqcastError) => void;
}

export type Emit = <E extends keyof ClientEvents>(event: E, ...args: Parameters<ClientEvents[E]>) => void;

export class ClientEventBus {
  private readonly listeners: { [E in keyof ClientEvents]: Set<ClientEvents[E]> } = {
    state: new Set(),
    reset: new Set(),
    gap: new Set(),
    error: new Set(),
  };

  /** Adds a listener; returns its removal. */
  on<E extends keyof ClientEvents>(event: E, fn: ClientEvents[E]): () => void {
    const set = this.listeners[event] as Set<ClientEvents[E]> | undefined;
    if (!set) throw new SeqcastError('invalid_request', `unknown event: ${String(event)}`);
    set.add(fn);
    return () => void set.delete(fn);
  }

  readonly emit: Emit = (event, ...args) => {
    for (const fn of [...this.listeners[event]]) {
      try {
        (fn as (...a: typeof args) => void)(...args);
      } catch {
        // A throwing listener must not break delivery or the reconnect loop.
      }
    }
  };
}
