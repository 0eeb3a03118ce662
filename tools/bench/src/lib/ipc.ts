/** Messages between the bench and its client worker processes (child_process IPC). */

export type ClientMode = 'seqcast' | 'sdk' | 'socketio';

export interface ConnectCommand {
  cmd: 'connect';
  mode: ClientMode;
  /** Where sockets connect: a gateway or a baseline server (with `balanced`: the first upstream). */
  url: string;
  /**
   * Connect through a loopback balancer inside this worker, in front of `url`'s port, moved with
   * `{ cmd: 'switch' }` (the storm's endpoint update). One per worker, like kube-proxy on each node,
   * so no process holds both ends of every client's connection (2 fds each: 10k clients would need
   * 20k fds in one process, past this box's `ulimit -n`).
   */
  balanced?: boolean;
  /** SDK only: ingest-api base URL (the SDK wants one even when it only subscribes). */
  ingestUrl?: string;
  token?: string;
  /** Global index of this worker's first client, so rooms spread evenly across workers. */
  firstClient: number;
  count: number;
  rooms: string[];
  /** Each client subscribes to this many rooms (consecutive, from its index); 0 = all rooms. */
  roomsPerClient: number;
  /** socketio mode: reconnect automatically (the peer's connection state recovery needs it). */
  reconnect?: boolean;
  /** Sockets being opened at once per worker. */
  concurrency?: number;
  /** Keep each message's arrival time at this worker's first client (for the per-hop breakdown). */
  recordArrivals?: boolean;
}

export type ParentCommand =
  | ConnectCommand
  | { cmd: 'mark'; at: number }
  /** New connections through the worker's balancer go to this port; answered with `switched`. */
  | { cmd: 'switch'; port: number }
  | { cmd: 'expected'; expected: Record<string, number>; failed?: Record<string, number[]> }
  | { cmd: 'report'; expected: Record<string, number>; failed?: Record<string, number[]>; reset?: boolean }
  | { cmd: 'close' };

export interface ClientTiming {
  disconnectedAt?: number;
  reconnectedAt?: number;
  caughtUpAt?: number;
}

export interface WorkerReport {
  type: 'report';
  histogram: string;
  deliveries: number;
  duplicates: number;
  lost: number;
  /** Clients that were missing messages at report time, of the rooms they subscribed to. */
  incompleteClients: number;
  timings: ClientTiming[];
  errors: string[];
  /** With `recordArrivals`: `[roomId, n, arrival ms since the epoch]` since the last reset. */
  arrivals?: Array<[string, number, number]>;
  /** This worker's event-loop delay since `mark` (or start), ms: how late its own timers and sockets were served. */
  loopDelay?: { p99: number; max: number };
  /** SDK clients: reconnect attempts since `mark`, by reason. */
  reconnectReasons?: Record<string, number>;
}

export type WorkerMessage =
  | { type: 'connected'; ok: number; failed: number; firstError?: string }
  | { type: 'progress'; deliveries: number; complete: number; caughtUp: number; disconnected: number }
  | { type: 'switched'; port: number }
  | WorkerReport;
