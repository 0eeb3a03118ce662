/**
 * One built service (dist/apps/<name>/main.js) as a child process of the tool: its pid is what
 * faults are sent to, its output goes to the run's log directory.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { freePort, waitFor } from '@seqcast/testing';
import { type Cleanup, isAlive } from './cleanup';

export type ServiceName = 'ingest-api' | 'ordering-worker' | 'edge-gateway';

export class ServiceProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private generation = 0;

  constructor(
    readonly name: ServiceName,
    readonly port: number,
    private readonly env: Record<string, string>,
    private readonly workspaceRoot: string,
    private readonly logDir: string,
    cleanup: Cleanup,
    /** A free port for each process's management server (a fresh one per start). */
    private readonly freeManagementPort: () => Promise<number> = freePort,
  ) {
    cleanup.add(name, () => this.kill9());
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The current process's management port (/healthz, /readyz, /metrics); 0 before the first start. */
  managementPort = 0;

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return isAlive(this.child?.pid) && this.child?.exitCode === null && this.child?.signalCode === null;
  }

  /** Starts a new process (a fresh pid) and waits for /readyz 200. `extraEnv` applies to this process only. */
  async start(extraEnv: Record<string, string> = {}, readyTimeoutMs = 90_000): Promise<void> {
    this.generation++;
    // Probes and /metrics live on a management port of their own; a fresh one per process, so a
    // replacement never collides with a copy that is still draining.
    this.managementPort = await this.freeManagementPort();
    const log = createWriteStream(join(this.logDir, `${this.name}.log`), { flags: 'a' });
    log.write(`\n==== chaos: start #${this.generation} of ${this.name} ====\n`);
    const child = spawn(process.execPath, [join(this.workspaceRoot, 'dist/apps', this.name, 'main.js')], {
      cwd: this.workspaceRoot,
      env: { PATH: process.env['PATH'] ?? '', ...this.env, ...extraEnv, PORT: String(this.port), MANAGEMENT_PORT: String(this.managementPort), HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const outcome = await waitFor(
      async () => {
        if (child.exitCode !== null || child.signalCode !== null) return 'exited';
        const res = await fetch(`${this.url}/readyz`, { signal: AbortSignal.timeout(2000) });
        return res.status === 200 ? 'ready' : false;
      },
      { timeoutMs: readyTimeoutMs, intervalMs: 100, what: `${this.name} /readyz to answer 200 (log: ${join(this.logDir, `${this.name}.log`)})` },
    );
    if (outcome === 'exited') throw new Error(`${this.name} exited during start-up (log: ${join(this.logDir, `${this.name}.log`)})`);
  }

  /** Polls /readyz once; false on any error. */
  async ready(): Promise<boolean> {
    try {
      const res = await fetch(`${this.url}/readyz`, { signal: AbortSignal.timeout(2000) });
      return res.status === 200;
    } catch {
      return false;
    }
  }

  signal(sig: NodeJS.Signals): void {
    if (!this.child?.pid) throw new Error(`${this.name} has no pid`);
    process.kill(this.child.pid, sig);
  }

  /** kill -9 by pid, and wait until it is gone. */
  async kill9(): Promise<void> {
    if (!this.running) return;
    this.signal('SIGKILL');
    await this.exited;
  }

  /** SIGTERM as Kubernetes sends it (the service drains), SIGKILL after `graceMs` like the kubelet. */
  async terminate(graceMs = 30_000): Promise<void> {
    if (!this.running) return;
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.running && this.signal('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Resolves when the current process has exited (at once if none runs). */
  whenExited(): Promise<void> {
    return this.exited;
  }
}
