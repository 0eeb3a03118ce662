/**
 * A PostgreSQL server of the run's own: initdb into a temporary directory from the installed server
 * binaries (/usr/lib/postgresql/<version>/bin), its own loopback port, so kill -9 hits nobody else's
 * database. As root, the server runs as the `postgres` OS user (initdb refuses root).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, createWriteStream, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '@seqcast/testing';
import { Client } from 'pg';
import { type Cleanup, isAlive } from './cleanup';

function serverBinDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin/initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) throw new Error(`no PostgreSQL server binaries under ${root}/*/bin (install postgresql)`);
  return join(root, versions[0], 'bin');
}

function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  return { uid, gid };
}

export class OwnPostgres {
  private child: ChildProcess | undefined;
  private readonly bin = serverBinDir();
  private readonly user = runAs();
  private readonly data: string;

  constructor(
    private readonly dir: string,
    readonly port: number,
    private readonly logFile: string,
    cleanup: Cleanup,
  ) {
    this.data = join(dir, 'data');
    cleanup.add('PostgreSQL', () => this.stop());
  }

  /** The database the services use (they create it if missing). */
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/seqcast`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async init(): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    if (this.user) chownSync(this.dir, this.user.uid, this.user.gid);
    execFileSync(join(this.bin, 'initdb'), ['-D', this.data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync'], {
      stdio: 'pipe',
      ...this.user,
    });
    await this.start();
  }

  /**
   * Right after a kill -9 the old backends may still hold the shared memory for a moment and the new
   * postmaster refuses to start: such an attempt is retried (bounded).
   */
  async start(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.startOnce();
        return;
      } catch (error) {
        if (attempt >= 20 || !(error instanceof ExitedDuringStartup)) throw error;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }

  private async startOnce(): Promise<void> {
    const log = createWriteStream(this.logFile, { flags: 'a' });
    // fsync off: only a process is killed here, never the machine, so the page cache survives.
    const child = spawn(
      join(this.bin, 'postgres'),
      ['-D', this.data, '-p', String(this.port), '-k', this.dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'max_connections=200'],
      { stdio: ['ignore', 'pipe', 'pipe'], ...this.user },
    );
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    this.child = child;
    const outcome = await waitFor(
      async () => {
        if (child.exitCode !== null || child.signalCode !== null) return 'exited';
        const client = new Client({ connectionString: `postgres://postgres@127.0.0.1:${this.port}/postgres`, connectionTimeoutMillis: 1000 });
        try {
          await client.connect();
          await client.query('select 1');
          return 'up';
        } catch {
          return false;
        } finally {
          await client.end().catch(() => undefined);
        }
      },
      { timeoutMs: 60_000, intervalMs: 200, what: `PostgreSQL on port ${this.port} to accept connections` },
    );
    if (outcome === 'exited') throw new ExitedDuringStartup(`PostgreSQL exited during start-up (log: ${this.logFile})`);
  }

  /** kill -9 of the postmaster (by its pid); its backends notice and exit by themselves. */
  async kill9(): Promise<void> {
    const child = this.child;
    if (!child?.pid || !isAlive(child.pid)) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    process.kill(child.pid, 'SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child?.pid || !isAlive(child.pid)) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    process.kill(child.pid, 'SIGQUIT'); // immediate shutdown: the data directory is thrown away anyway
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
    if (isAlive(child.pid)) process.kill(child.pid, 'SIGKILL');
  }
}

class ExitedDuringStartup extends Error {}
