/**
 * The run's own Kafka through tools/kafka/kafka.sh (the same broker the project uses everywhere):
 * one node, or a KRaft cluster of three (`--brokers 3`), in a temporary directory on free ports,
 * never the shared broker on 9092. Faults go to the JVM pids from kafka.sh's pidfiles.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Cleanup, isAlive } from './cleanup';

export class OwnKafka {
  constructor(
    private readonly workspaceRoot: string,
    private readonly localDir: string,
    /** Node 1's port; node I listens on basePort + 2(I-1) (see kafka.sh). */
    private readonly basePort: number,
    readonly nodes: 1 | 3,
    cleanup: Cleanup,
  ) {
    cleanup.add('Kafka', () => this.killAll());
  }

  /** kafka.sh runs in progress: each in its own process group, so a cleanup can stop one mid-start. */
  private readonly scripts = new Set<ChildProcess>();

  get bootstrap(): string {
    return Array.from({ length: this.nodes }, (_, i) => `127.0.0.1:${this.portOf(i + 1)}`).join(',');
  }

  portOf(node: number): number {
    return this.nodes === 1 ? this.basePort : this.basePort + 2 * (node - 1);
  }

  /** The node's JVM pid from kafka.sh's pidfile (undefined when not running). */
  pidOf(node = 1): number | undefined {
    const dir = this.nodes === 1 ? join(this.localDir, `kafka-${this.basePort}`) : join(this.localDir, `kafka-cluster-${this.basePort}`, `node-${node}`);
    try {
      const pid = Number(readFileSync(join(dir, 'kafka.pid'), 'utf8').trim());
      return isAlive(pid) ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  async start(): Promise<void> {
    await this.sh(this.nodes === 1 ? ['start'] : ['start', '--brokers', String(this.nodes)]);
  }

  /** (Re)starts one node, e.g. after kill -9; waits until it answers metadata requests. */
  async startNode(node = 1): Promise<void> {
    await this.sh(this.nodes === 1 ? ['start'] : ['start-node', String(node), '--brokers', String(this.nodes)]);
  }

  /** Clean shutdown of one node (SIGTERM via kafka.sh, waits for it). */
  async stopNode(node = 1): Promise<void> {
    await this.sh(this.nodes === 1 ? ['stop'] : ['stop-node', String(node), '--brokers', String(this.nodes)]);
  }

  signalNode(node: number, sig: NodeJS.Signals): void {
    const pid = this.pidOf(node);
    if (!pid) throw new Error(`Kafka node ${node} is not running`);
    process.kill(pid, sig);
  }

  /** kill -9 and wait for the pid to disappear. */
  async kill9(node = 1): Promise<void> {
    const pid = this.pidOf(node);
    if (!pid) return;
    process.kill(pid, 'SIGKILL');
    for (let i = 0; i < 100 && isAlive(pid); i++) await new Promise((resolve) => setTimeout(resolve, 100));
  }

  private async killAll(): Promise<void> {
    // First any kafka.sh still starting a node (and the JVM it launched), or it would start one after us.
    for (const script of this.scripts) {
      try {
        if (script.pid) process.kill(-script.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    for (let node = 1; node <= this.nodes; node++) {
      const pid = this.pidOf(node);
      if (!pid) continue;
      try {
        process.kill(pid, 'SIGCONT'); // a SIGSTOPped JVM would otherwise sit there
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }

  private sh(args: string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      const script = spawn('bash', [join(this.workspaceRoot, 'tools/kafka/kafka.sh'), ...args], {
        env: {
          ...process.env,
          SEQCAST_LOCAL_DIR: this.localDir,
          KAFKA_PORT: String(this.basePort),
          KAFKA_CONTROLLER_PORT: String(this.basePort + 1),
          // Not less than kafka.sh's default: with 256m a restarted node died of OutOfMemoryError
          // allocating its log cleaner's buffer.
          KAFKA_HEAP: '512m',
          KAFKA_START_TIMEOUT_S: '120',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      this.scripts.add(script);
      let output = '';
      const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-8000));
      script.stdout?.on('data', keep);
      script.stderr?.on('data', keep);
      const timer = setTimeout(() => script.pid && process.kill(-script.pid, 'SIGKILL'), 180_000);
      script.once('close', (code, signal) => {
        clearTimeout(timer);
        this.scripts.delete(script);
        if (code === 0) resolve();
        else reject(new Error(`kafka.sh ${args.join(' ')} failed (${signal ?? `exit ${code}`}): ${output.trim()}`));
      });
    });
  }
}
