import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadServiceManifest, type ServiceManifest } from '@seqcast/service-manifest';
import { freePort, waitFor } from '@seqcast/testing';

/** A key of services.json's `services`. */
export type ServiceName = string;

const workspaceRoot = join(__dirname, '../../../..');

/** services.json: which services exist and which Nx project builds each. */
export const serviceManifest: ServiceManifest = loadServiceManifest(join(workspaceRoot, 'services.json'));

/**
 * One built service (dist/apps/<project>/main.js, services.json) running as a real child process, its output in
 * tmp/e2e-logs/<label>.log so a failing run can be diagnosed after the fact.
 */
export class ServiceProcess {
  private child?: ChildProcess;
  private exited?: Promise<number | null>;
  /** How the process ended: exit code, or the signal that ended it (null while running). */
  exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;

  constructor(
    readonly name: ServiceName,
    readonly port: number,
    private readonly env: Record<string, string>,
    readonly label: string = name,
  ) {
    if (!serviceManifest.services[name]) throw new Error(`unknown service "${name}": not in services.json`);
  }

  /** MANAGEMENT_PORT (/healthz, /readyz, /metrics), picked at the first start. */
  managementPort: number | undefined;

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get managementUrl(): string {
    if (this.managementPort === undefined) throw new Error(`${this.label} has not been started`);
    return `http://127.0.0.1:${this.managementPort}`;
  }

  /** Everything the process wrote to stdout and stderr. */
  get logPath(): string {
    return join(workspaceRoot, 'tmp/e2e-logs', `${this.label}.log`);
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Started and not exited (yet). */
  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /**
   * Spawns the process and waits (up to `readyTimeoutMs`) until its /readyz answers 200. The
   * management port is ours to pick on the first start; freePort hands out an ephemeral port, which
   * an outgoing connection may take before the service binds it, so that race is retried with a new
   * one (the public port is the caller's and stays).
   */
  async start(readyTimeoutMs = 60_000): Promise<void> {
    const ourPick = this.managementPort === undefined;
    for (let attempt = 1; ; attempt++) {
      if (ourPick) this.managementPort = await freePort();
      try {
        return await this.startOnce(readyTimeoutMs);
      } catch (error) {
        if (!ourPick || attempt >= 3 || !this.lostManagementPort()) throw error;
      }
    }
  }

  private lostManagementPort(): boolean {
    const log = existsSync(this.logPath) ? readFileSync(this.logPath, 'utf8') : '';
    return log.includes(`EADDRINUSE: address already in use 127.0.0.1:${this.managementPort}`);
  }

  private async startOnce(readyTimeoutMs: number): Promise<void> {
    const logDir = join(workspaceRoot, 'tmp/e2e-logs');
    mkdirSync(logDir, { recursive: true });
    const log = createWriteStream(this.logPath, { flags: 'a' });
    const child = spawn(process.execPath, [join(workspaceRoot, 'dist/apps', serviceManifest.services[this.name].project, 'main.js')], {
      cwd: workspaceRoot,
      env: {
        PATH: process.env['PATH'] ?? '',
        ...this.env,
        PORT: String(this.port),
        MANAGEMENT_PORT: String(this.managementPort),
        HOST: '127.0.0.1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    this.child = child;
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(code);
      }),
    );
    let exitCode: number | null | undefined;
    void this.exited.then((code) => (exitCode = code));
    await waitFor(
      async () => {
        if (exitCode !== undefined) throw new Error(`${this.label} exited with ${exitCode} (see tmp/e2e-logs/${this.label}.log)`);
        const res = await fetch(`${this.url}/readyz`);
        return res.status === 200;
      },
      { timeoutMs: readyTimeoutMs, intervalMs: 200, what: `${this.label} /readyz to answer 200` },
    ).catch((error: unknown) => {
      if (exitCode !== undefined) throw new Error(`${this.label} exited with ${exitCode} during start-up (see tmp/e2e-logs/${this.label}.log)`);
      throw error;
    });
  }

  /** SIGTERM and wait for a clean exit; SIGKILL after `graceMs`. */
  async stop(graceMs = 20_000): Promise<number | null> {
    if (!this.child || !this.exited || this.child.exitCode !== null) return this.child?.exitCode ?? null;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), graceMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  /** kill -9: no shutdown hooks, no goodbyes. */
  async kill(): Promise<void> {
    if (!this.child || !this.exited || this.child.exitCode !== null) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }
}
