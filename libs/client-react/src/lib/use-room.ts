/**
 * useRoom: a component's view of one Seqcast room. The SDK already turns the wire into "each
 * message once, in order"; the hook only mirrors that into React state and ties the subscription
 * to the component's lifetime (subscribe on mount or when the room changes, unsubscribe on unmount).
 */
import type {
  ConnectionState,
  JsonValue,
  PublishOptions,
  PublishResult,
  RoomMessage,
  SeqcastClient,
} from '@seqcast/client';
import { useCallback, useEffect, useState } from 'react';

export type RoomStatus = 'idle' | 'subscribing' | 'live' | 'error';

export interface UseRoomOptions {
  /** Keep only the newest this many messages in state (older ones are dropped from view). Default 500. */
  maxMessages?: number;
}

export interface RoomView<TPayload extends JsonValue = JsonValue> {
  /** Delivered messages in seq order (each once), newest last. Cleared when the room's log is reset. */
  messages: RoomMessage<TPayload>[];
  /** `live` once the gateway acknowledged the subscription; `error` if it refused (see `error`). */
  status: RoomStatus;
  /** Why the subscription failed (a SeqcastError: `forbidden`, `invalid_request`, ...). */
  error: Error | undefined;
  /** The client's connection state. */
  connection: ConnectionState;
  /** Gaps the SDK detected and healed in this room (each resubscribes from the cursor). */
  gaps: number;
  /** Times the room's log was reset (new epoch). */
  resets: number;
  /** Publishes to this room over HTTP (idempotent retries, see SeqcastClient.publish). */
  publish(payload: TPayload, options?: PublishOptions): Promise<PublishResult>;
}

const DEFAULT_MAX_MESSAGES = 500;

/** The client's connection state as React state. */
export function useConnectionState(client: Pick<SeqcastClient, 'state' | 'on'> | null | undefined): ConnectionState {
  const [state, setState] = useState<ConnectionState>(client?.state ?? 'idle');
  useEffect(() => {
    if (!client) {
      setState('idle');
      return undefined;
    }
    setState(client.state);
    return client.on('state', (next) => setState(next));
  }, [client]);
  return state;
}

/**
 * Subscribes `client` to `roomId` while the component is mounted (no room: nothing). The client is
 * the app's: the hook neither connects nor closes it.
 */
export function useRoom<TPayload extends JsonValue = JsonValue>(
  client: SeqcastClient<TPayload> | null | undefined,
  roomId: string | null | undefined,
  options: UseRoomOptions = {},
): RoomView<TPayload> {
  const maxMessages = options.maxMessages ?? DEFAULT_MAX_MESSAGES;
  const connection = useConnectionState(client);
  const [messages, setMessages] = useState<RoomMessage<TPayload>[]>([]);
  const [status, setStatus] = useState<RoomStatus>('idle');
  const [error, setError] = useState<Error | undefined>(undefined);
  const [gaps, setGaps] = useState(0);
  const [resets, setResets] = useState(0);

  useEffect(() => {
    setMessages([]);
    setError(undefined);
    setGaps(0);
    setResets(0);
    if (!client || !roomId) {
      setStatus('idle');
      return undefined;
    }
    // Answers to a subscription this effect no longer owns (room changed, unmounted) are ignored.
    let active = true;
    setStatus('subscribing');
    const offGap = client.on('gap', (room) => {
      if (active && room === roomId) setGaps((n) => n + 1);
    });
    const offReset = client.on('reset', (room) => {
      if (!active || room !== roomId) return;
      setResets((n) => n + 1);
      setMessages([]);
    });
    client
      .subscribe(roomId, (message) => {
        if (!active) return;
        setMessages((previous) => {
          const next = [...previous, message];
          return next.length > maxMessages ? next.slice(next.length - maxMessages) : next;
        });
      })
      .then(
        () => active && setStatus('live'),
        (reason: unknown) => {
          if (!active) return;
          setError(reason instanceof Error ? reason : new Error(String(reason)));
          setStatus('error');
        },
      );
    return () => {
      active = false;
      offGap();
      offReset();
      // Resolves or rejects on its own; the component is gone and has nothing to do with the answer.
      client.unsubscribe(roomId).catch(() => undefined);
    };
  }, [client, roomId, maxMessages]);

  const publish = useCallback(
    (payload: TPayload, publishOptions?: PublishOptions): Promise<PublishResult> => {
      if (!client || !roomId) return Promise.reject(new Error('useRoom: publish needs a client and a room'));
      return client.publish(roomId, payload, publishOptions);
    },
    [client, roomId],
  );

  return { messages, status, error, connection, gaps, resets, publish };
}
