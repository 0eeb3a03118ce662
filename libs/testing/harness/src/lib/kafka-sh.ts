/** tools/kafka/kafka.sh for the test brokers of this lib (internal: not part of the public API). */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const KAFKA_SH = resolve(__dirname, '../../../../../tools/kafka/kafka.sh');

/** Runs `kafka.sh start|stop` with the broker's env; a failure carries the script's output. */
export async function runKafkaSh(command: 'start' | 'stop', env: NodeJS.ProcessEnv): Promise<void> {
  try {
    await run('bash', [KAFKA_SH, command], { env, timeout: 150_000 });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`kafka.sh ${command} failed: ${stderr || stdout || String(error)}`);
  }
}
