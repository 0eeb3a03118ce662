/**
 * The run's own Kafka through tools/kafka/kafka.sh (the same broker the project uses everywhere):
 * one node, or a KRaft cluster of three (`--brokers 3`), in a temporary directory on free ports,
 * never the shared broker on 9092. Faults go to the JVM pids from kafka.sh's pidfiles.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type Cleanup, isAlive } from './cleanup';

const run = promisify(execFile);

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

  private async sh(args: string[]): Promise<void> {
    try {
      await run('bash', [join(this.workspaceRoot, 'tools/kafka/kafka.sh'), ...args], {
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
        timeout: 180_000,
      });
    } catch (error) {
      const { stdout, stderr } = error as { stdout?: string; stderr?: string };
      throw new Error(`kafka.sh ${args.join(' ')} failed: ${stderr || stdout || String(error)}`);
    }
  }
}
