/**
 * A throw-away single-node Kafka broker of this test's own, via tools/kafka/kafka.sh, so a test can
 * stop and restart "the broker" without touching the shared one on 9092 other suites use. Ports are
 * picked free at start, data lives in a temporary directory removed by `destroy()`.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port';
import { runKafkaSh } from './kafka-sh';

export interface DedicatedKafka {
  /** `127.0.0.1:<port>`, for KAFKA_BROKERS / createKafka. */
  broker: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** kill -9 of the broker process (no clean shutdown, as a crash or an OOM kill); `start()` brings it back. */
  kill(): Promise<void>;
  /** Stops the broker if running and removes its data. */
  destroy(): Promise<void>;
}

export async function createDedicatedKafka(): Promise<DedicatedKafka> {
  const localDir = await mkdtemp(join(tmpdir(), 'seqcast-kafka-'));
  const port = await freePort();
  let controllerPort = await freePort();
  while (controllerPort === port) controllerPort = await freePort();
  const env = {
    ...process.env,
    SEQCAST_LOCAL_DIR: localDir,
    KAFKA_PORT: String(port),
    KAFKA_CONTROLLER_PORT: String(controllerPort),
    KAFKA_HEAP: '256m',
    // A JVM starting on a machine loaded by parallel suites can take well over a minute.
    KAFKA_START_TIMEOUT_S: '120',
  };
  const kafkaSh = (command: 'start' | 'stop') => runKafkaSh(command, env);
  // Where kafka.sh keeps the broker's pid (its `kdir`).
  const pidFile = join(localDir, `kafka-${port}`, 'kafka.pid');
  const kill = async () => {
    const pid = Number((await readFile(pidFile, 'utf8')).trim());
    process.kill(pid, 'SIGKILL');
    // Gone once signal 0 fails; kafka.sh start treats the stale pid file as "not running".
    for (
      const deadline = Date.now() + 30_000;
      Date.now() < deadline;
      await new Promise((done) => setTimeout(done, 100))
    ) {
      try {
        process.kill(pid, 0);
      } catch {
        return;
      }
    }
    throw new Error(`Kafka (pid ${pid}) still running 30 s after SIGKILL`);
  };
  return {
    broker: `127.0.0.1:${port}`,
    start: () => kafkaSh('start'),
    stop: () => kafkaSh('stop'),
    kill,
    destroy: async () => {
      await kafkaSh('stop').catch(() => undefined);
      await rm(localDir, { recursive: true, force: true });
    },
  };
}
