import { type ChildProcess, fork, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadServiceManifest } from '@seqcast/service-manifest';
import { freePort, waitFor } from '@seqcast/testing';

export const workspaceRoot = join(__dirname, '../../../..');
export const logDir = join(workspaceRoot, 'tmp/bench-logs');
const register = join(__dirname, '../../register.cjs');

const manifest = loadServiceManifest(join(workspaceRoot, 'services.json'));

function nodeFlags(flags: string | undefined): string[] {
  return (flags ?? '').split(' ').filter(Boolean);
}

/** Every child the bench started, so an interrupted run still ends them (by pid, nothing else). */
const children = new Set<ChildProcess>();

export function killAllChildren(): void {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

function track(child: ChildProcess, label: string): ChildProcess {
  mkdirSync(logDir, { recursive: true });
  const log = createWriteStream(join(logDir, `${label}.log`), { flags: 'a' });
  // Both streams share the file: the first to end must not close it under the other (a service that
  // exits at once, e.g. on a NODE_OPTIONS flag node refuses, crashed the bench with "write after end").
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  children.add(child);
  child.once('exit', () => children.delete(child));
  child.once('close', () => log.end());
  return child;
}

/** A long-running child (a service or a baseline server) with its output in tmp/bench-logs/<label>.log. */
export class BenchProcess {
  protected child?: ChildProcess;
  private exited?: Promise<void>;

  constructor(
    readonly label: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  protected adopt(child: ChildProcess): void {
    this.child = track(child, this.label);
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  /** Until /readyz answers 200 (what a load balancer waits for). */
  async ready(timeoutMs = 90_000): Promise<void> {
    const child = this.child;
    const outcome = await waitFor(
      async () => {
        if (!child || child.exitCode !== null || child.signalCode !== null) return 'exited' as const;
        return (await fetch(`${this.url}/readyz`).catch(() => undefined))?.status === 200 && ('ready' as const);
      },
      { timeoutMs, intervalMs: 200, what: `${this.label} /readyz` },
    );
    // At once, not after the readiness timeout: a process that exited will not become ready.
    if (outcome === 'exited') {
      const log = join(logDir, `${this.label}.log`);
      const last = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').slice(-3).join(' | ') : '';
      throw new Error(`${this.label} exited (${child?.exitCode ?? child?.signalCode}) before it was ready; ${log}: ${last}`);
    }
  }

  /** SIGTERM, as a deploy does; resolves when the process has exited (SIGKILL after graceMs). */
  async stop(graceMs = 60_000): Promise<void> {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  signal(signal: NodeJS.Signals): void {
    this.child?.kill(signal);
  }
}

/** A built service: dist/apps/<name>/main.js from `npm run build`. */
export class ServiceProcess extends BenchProcess {
  constructor(
    readonly name: 'ingest-api' | 'ordering-worker' | 'edge-gateway',
    port: number,
    private readonly env: Record<string, string>,
    label: string,
  ) {
    super(label, port);
  }

  /** The management port (/healthz, /readyz, /metrics) of the current process; 0 before start. */
  managementPort = 0;

  get managementUrl(): string {
    return `http://127.0.0.1:${this.managementPort}`;
  }

  async start(): Promise<void> {
    const main = join(workspaceRoot, 'dist/apps', this.name, 'main.js');
    // Without this, a missing build shows up only as /readyz never answering, 90 s later.
    if (!existsSync(main)) throw new Error(`${main} does not exist: run \`npm run build\` first (the bench runs the built services)`);
    // A fresh management port per process: a replacement never collides with a draining copy.
    this.managementPort = await freePort();
    this.adopt(
      // The flags its image runs it with (services.json nodeOptions, docker/Dockerfile's node.env), then
      // BENCH_SERVICE_NODE_OPTIONS, e.g. "--cpu-prof --cpu-prof-dir=tmp/prof": on node's command line,
      // not NODE_OPTIONS, which refuses many V8 flags (--single-threaded-gc, for one).
      spawn(process.execPath, [...nodeFlags(manifest.services[this.name]?.nodeOptions), ...nodeFlags(process.env['BENCH_SERVICE_NODE_OPTIONS']), main], {
        cwd: workspaceRoot,
        env: {
          PATH: process.env['PATH'] ?? '',
          ...this.env,
          PORT: String(this.port),
          MANAGEMENT_PORT: String(this.managementPort),
          HOST: '127.0.0.1',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    await this.ready();
  }
}

/** The baseline Socket.IO server (raw, or the redis-streams peer); see ../workers/socketio-server.ts. */
export class SocketIoServerProcess extends BenchProcess {
  constructor(
    label: string,
    port: number,
    private readonly env: Record<string, string>,
  ) {
    super(label, port);
  }

  async start(): Promise<void> {
    this.adopt(
      fork(join(__dirname, '../workers/socketio-server.ts'), [], {
        execArgv: ['-r', register],
        env: { ...process.env, ...this.env, PORT: String(this.port) },
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      }),
    );
    await this.ready(30_000);
  }
}

/** A client worker process (../workers/clients.ts), started with room for many sockets. */
export function forkClientWorker(label: string): ChildProcess {
  return track(
    fork(join(__dirname, '../workers/clients.ts'), [], {
      // BENCH_CLIENT_NODE_OPTIONS (e.g. "--cpu-prof --cpu-prof-dir=tmp/prof"): profile the load generator too.
      execArgv: ['-r', register, '--max-old-space-size=4096', ...(process.env['BENCH_CLIENT_NODE_OPTIONS'] ?? '').split(' ').filter(Boolean)],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    }),
    label,
  );
}
