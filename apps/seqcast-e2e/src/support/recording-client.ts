import {
  type ConnectionState,
  type CursorStore,
  type Message,
  SeqcastClient,
  type SeqcastClientOptions,
  type SeqcastError,
  type StateDetail,
} from '@seqcast/client';
import { e2eToken } from './http-publisher';

export interface Delivery {
  message: Message;
  /** Date.now() when the SDK handed it to the app. */
  at: number;
}

export interface StateChange {
  state: ConnectionState;
  at: number;
  detail?: StateDetail;
}

export interface RecordingClientOptions {
  gatewayUrl: string;
  ingestUrl: string;
  cursorStore?: CursorStore;
  reconnect?: SeqcastClientOptions['reconnect'];
}

/**
 * An app built on @seqcast/client that writes down everything the SDK hands it, with times, so a
 * test can check "exactly once, in order" per room and measure how long delivery paused.
 */
export class RecordingClient {
  readonly client: SeqcastClient;
  readonly deliveries = new Map<string, Delivery[]>();
  readonly states: StateChange[] = [];
  readonly errors: SeqcastError[] = [];
  gaps = 0;

  constructor(
    readonly name: string,
    options: RecordingClientOptions,
  ) {
    this.client = new SeqcastClient({
      gatewayUrl: options.gatewayUrl,
      ingestUrl: options.ingestUrl,
      token: () => e2eToken(name),
      cursorStore: options.cursorStore,
      reconnect: options.reconnect,
      // One TCP connection per Socket.IO session: the balancer in front of the gateways has no
      // session affinity (like a plain Kubernetes Service), which HTTP long-polling would need.
      socketOptions: { transports: ['websocket'] },
    });
    this.client.on('state', (state, detail) => this.states.push({ state, at: Date.now(), detail }));
    this.client.on('error', (error) => this.errors.push(error));
    this.client.on('gap', () => this.gaps++);
  }

  connect(): void {
    this.client.connect();
  }

  async subscribe(rooms: readonly string[]): Promise<void> {
    await Promise.all(
      rooms.map((roomId) => {
        const list = this.deliveries.get(roomId) ?? [];
        this.deliveries.set(roomId, list);
        return this.client.subscribe(roomId, (message) => list.push({ message, at: Date.now() }));
      }),
    );
  }

  messages(roomId: string): Message[] {
    return (this.deliveries.get(roomId) ?? []).map((d) => d.message);
  }

  count(roomId?: string): number {
    if (roomId !== undefined) return this.deliveries.get(roomId)?.length ?? 0;
    let n = 0;
    for (const list of this.deliveries.values()) n += list.length;
    return n;
  }

  lastSeq(roomId: string): number | undefined {
    const list = this.deliveries.get(roomId);
    return list && list.length > 0 ? list[list.length - 1].message.seq : undefined;
  }

  /** First time at or after `since` the client was in `state` (undefined if it has not been). */
  stateAt(state: ConnectionState, since: number): number | undefined {
    return this.states.find((s) => s.state === state && s.at >= since)?.at;
  }

  /** Connection attempts that failed at or after `since` (reconnecting after a failed try). */
  failedAttemptsSince(since: number): number {
    return this.states.filter((s) => s.at >= since && s.state === 'reconnecting' && (s.detail?.attempt ?? 0) > 1).length;
  }

  /** First delivery to the app strictly after `since`, any room. */
  firstDeliveryAfter(since: number): number | undefined {
    let first: number | undefined;
    for (const list of this.deliveries.values()) {
      const d = list.find((x) => x.at > since);
      if (d && (first === undefined || d.at < first)) first = d.at;
    }
    return first;
  }

  /** Every delivery time, all rooms. */
  deliveryTimes(): number[] {
    return [...this.deliveries.values()].flatMap((list) => list.map((d) => d.at));
  }

  close(): void {
    this.client.close();
  }
}

/**
 * The longest time without any delivery to the app that overlaps [from, to]: the pause a user
 * would have noticed around an event, given a steady stream of messages.
 */
export function longestPause(times: readonly number[], from: number, to: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let longest = 0;
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i] >= from && sorted[i - 1] <= to) longest = Math.max(longest, sorted[i] - sorted[i - 1]);
  }
  return longest;
}
