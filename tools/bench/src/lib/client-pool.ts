import type { ChildProcess } from 'node:child_process';
import type { ClientTiming, ConnectCommand, WorkerMessage, WorkerReport } from './ipc';
import { forkClientWorker } from './processes';
import { mergeHistograms, type Histogram } from './stats';

export interface PoolProgress {
  deliveries: number;
  complete: number;
  caughtUp: number;
  disconnected: number;
}

export interface PoolReport {
  histogram: Histogram;
  deliveries: number;
  duplicates: number;
  lost: number;
  incompleteClients: number;
  timings: ClientTiming[];
  errors: string[];
  arrivals: Array<[string, number, number]>;
  /** Each worker's event-loop delay since the mark (ms): whether the load generator itself was late. */
  loopDelay: Array<{ p99: number; max: number }>;
  /** SDK clients: reconnect attempts since the mark, by reason, all workers added up. */
  reconnectReasons: Record<string, number>;
}

type Reply<T extends WorkerMessage['type']> = Extract<WorkerMessage, { type: T }>;

/** Sockets per worker process: enough to keep the bench off the critical path on two cores. */
export const SOCKETS_PER_WORKER = 2_500;

/** Client sockets spread over worker processes, driven together. */
export class ClientPool {
  private constructor(private readonly workers: ChildProcess[]) {}

  /** Opens `count` clients over ceil(count / SOCKETS_PER_WORKER) workers; throws if any failed to connect. */
  static async open(label: string, count: number, command: Omit<ConnectCommand, 'cmd' | 'firstClient' | 'count'>): Promise<ClientPool> {
    const n = Math.max(1, Math.ceil(count / SOCKETS_PER_WORKER));
    const workers = Array.from({ length: n }, (_, i) => forkClientWorker(`${label}-clients-${i}`));
    const pool = new ClientPool(workers);
    try {
      let first = 0;
      const answers = await Promise.all(
        workers.map((worker, i) => {
          const share = Math.floor(count / n) + (i < count % n ? 1 : 0);
          const message: ConnectCommand = { cmd: 'connect', ...command, firstClient: first, count: share };
          first += share;
          return pool.ask(worker, message, 'connected', 300_000);
        }),
      );
      const failed = answers.reduce((sum, a) => sum + a.failed, 0);
      if (failed > 0) throw new Error(`${failed} of ${count} clients failed to connect/subscribe: ${answers.find((a) => a.firstError)?.firstError}`);
      return pool;
    } catch (error) {
      pool.close();
      throw error;
    }
  }

  /**
   * The endpoint update of a rolling deploy, for clients opened with `balanced`: every worker's
   * balancer sends new connections to `port`; resolves once all of them have.
   */
  async switchUpstream(port: number): Promise<void> {
    await Promise.all(this.workers.map((w) => this.ask(w, { cmd: 'switch', port }, 'switched', 30_000)));
  }

  /** The worker processes' pids, for CPU readings. */
  get pids(): Array<number | undefined> {
    return this.workers.map((w) => w.pid);
  }

  mark(at: number): void {
    for (const w of this.workers) w.send({ cmd: 'mark', at });
  }

  async progress(expected: Record<string, number>, failed?: Record<string, number[]>): Promise<PoolProgress> {
    const answers = await Promise.all(this.workers.map((w) => this.ask(w, { cmd: 'expected', expected, failed }, 'progress', 60_000)));
    return answers.reduce((sum, a) => ({
      deliveries: sum.deliveries + a.deliveries,
      complete: sum.complete + a.complete,
      caughtUp: sum.caughtUp + a.caughtUp,
      disconnected: sum.disconnected + a.disconnected,
    }), { deliveries: 0, complete: 0, caughtUp: 0, disconnected: 0 });
  }

  /** Cumulative counts; the latency histogram covers the time since the last report with `reset`. */
  async report(expected: Record<string, number>, failed?: Record<string, number[]>, reset = false): Promise<PoolReport> {
    const answers: WorkerReport[] = await Promise.all(this.workers.map((w) => this.ask(w, { cmd: 'report', expected, failed, reset }, 'report', 120_000)));
    return {
      histogram: mergeHistograms(answers.map((a) => a.histogram)),
      deliveries: answers.reduce((s, a) => s + a.deliveries, 0),
      duplicates: answers.reduce((s, a) => s + a.duplicates, 0),
      lost: answers.reduce((s, a) => s + a.lost, 0),
      incompleteClients: answers.reduce((s, a) => s + a.incompleteClients, 0),
      timings: answers.flatMap((a) => a.timings),
      errors: answers.flatMap((a) => a.errors).slice(0, 10),
      arrivals: answers.flatMap((a) => a.arrivals ?? []),
      loopDelay: answers.map((a) => a.loopDelay ?? { p99: NaN, max: NaN }),
      reconnectReasons: answers.reduce<Record<string, number>>((sum, a) => {
        for (const [reason, n] of Object.entries(a.reconnectReasons ?? {})) sum[reason] = (sum[reason] ?? 0) + n;
        return sum;
      }, {}),
    };
  }

  close(): void {
    for (const w of this.workers) {
      if (w.connected) w.send({ cmd: 'close' });
      const timer = setTimeout(() => w.kill('SIGKILL'), 5_000);
      w.once('exit', () => clearTimeout(timer));
    }
  }

  private ask<T extends WorkerMessage['type']>(worker: ChildProcess, message: object, type: T, timeoutMs: number): Promise<Reply<T>> {
    return new Promise((resolve, reject) => {
      const onMessage = (reply: WorkerMessage) => {
        if (reply.type !== type) return;
        cleanup();
        resolve(reply as Reply<T>);
      };
      const onExit = (code: number | null) => {
        cleanup();
        reject(new Error(`client worker exited (${code}) while waiting for ${type}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`client worker: no ${type} within ${timeoutMs} ms`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('exit', onExit);
      };
      worker.on('message', onMessage);
      worker.once('exit', onExit);
      worker.send(message);
    });
  }
}
