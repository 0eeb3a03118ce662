import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '@seqcast/testing';

export const workspaceRoot = join(__dirname, '../../../..');

/**
 * A built service or the console server as a real child process, output in
 * tmp/e2e-logs/<label>.log; ready once `readyPath` answers 200.
 */
export class NodeProcess {
  private child?: ChildProcess;
  private exited?: Promise<void>;

  constructor(
    readonly label: string,
    private readonly script: string,
    readonly port: number,
    private readonly env: Record<string, string>,
    private readonly readyPath = '/readyz',
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const logDir = join(workspaceRoot, 'tmp/e2e-logs');
    mkdirSync(logDir, { recursive: true });
    const log = createWriteStream(join(logDir, `${this.label}.log`), { flags: 'a' });
    const child = spawn(process.execPath, [join(workspaceRoot, this.script)], {
      cwd: workspaceRoot,
      env: { PATH: process.env['PATH'] ?? '', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    this.child = child;
    let exitCode: number | null | undefined;
    this.exited = new Promise((resolve) =>
      child.once('exit', (code) => {
        exitCode = code;
        resolve();
      }),
    );
    await waitFor(
      async () => {
        if (exitCode !== undefined) throw new Error(`${this.label} exited with ${exitCode} (see tmp/e2e-logs/${this.label}.log)`);
        return (await fetch(`${this.url}${this.readyPath}`)).status === 200;
      },
      { timeoutMs: 60_000, intervalMs: 200, what: `${this.label} ${this.readyPath} to answer 200` },
    );
  }

  /** SIGTERM, SIGKILL after `graceMs`. */
  async stop(graceMs = 20_000): Promise<void> {
    if (!this.child || !this.exited || this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}
